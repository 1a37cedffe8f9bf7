import test from "ava";
import {
  parseAuthorizationMode,
  parseBodyLimit,
  parseBoolean,
  parseDelay,
  parseLeaseMode,
  parsePlacement,
  parsePort,
  parseStrategy,
} from "./flags.js";

const ok: Array<[string, (v: string) => unknown, string, unknown]> = [
  ["body limit", parseBodyLimit, "10Mi", 10 * 1024 * 1024],
  ["body limit bytes", parseBodyLimit, "2048", 2048],
  ["port", parsePort, "23000", 23000],
  ["delay", parseDelay, "5s", 5_000],
  ["no delay", parseDelay, "0", 0],
  ["strategy", parseStrategy, "spread", "spread"],
  ["lease mode", parseLeaseMode, "optional", "optional"],
  ["placement", parsePlacement, "score", "score"],
  ["authorization mode", parseAuthorizationMode, "Webhook", "Webhook"],
  ["boolean", parseBoolean, "true", true],
  ["boolean", parseBoolean, "False", false],
];
for (const [title, parse, input, expected] of ok) {
  test(`flags: ${title} ${input}`, (t) => t.deepEqual(parse(input), expected));
}

const bad: Array<[string, (v: string) => unknown, string, RegExp]> = [
  ["body limit", parseBodyLimit, "big", /invalid size "big"/],
  ["body limit negative", parseBodyLimit, "-1Mi", /must not be negative/],
  ["body limit tiny", parseBodyLimit, "10", /at least 1Ki/],
  ["port", parsePort, "70000", /expected 1..65535/],
  ["delay", parseDelay, "soon", /invalid duration "soon"/],
  ["port text", parsePort, "http", /invalid port/],
  ["strategy", parseStrategy, "random", /expected one of binpack, spread/],
  ["lease mode", parseLeaseMode, "maybe", /expected one of required, optional/],
  ["placement", parsePlacement, "hold-all", /expected one of decide, score/],
];
for (const [title, parse, input, message] of bad) {
  test(`flags: bad ${title} ${input}`, (t) => {
    t.throws(() => parse(input), { message });
  });
}
