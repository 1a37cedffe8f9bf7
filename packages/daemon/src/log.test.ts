import test from "ava";
import { Writable } from "node:stream";
import { createLogger, parseLogLevel, serializeError } from "./log.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

test("logs are one JSON object per line, with the daemon's name, the level's name and an ISO time", (t) => {
  const { lines, stream } = capture();
  const log = createLogger("nls-test", "info", stream);
  log.info({ vg: "pool0" }, "volume group created");
  log.debug("not shown at info");
  t.is(lines.length, 1);
  const entry = JSON.parse(lines[0]!);
  t.like(entry, { level: "info", name: "nls-test", vg: "pool0", msg: "volume group created" });
  t.regex(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

const thrown: Array<[string, unknown, { type: string; message: string; stack: RegExp }]> = [
  ["an Error", new TypeError("boom"), { type: "TypeError", message: "boom", stack: /^TypeError: boom\n\s+at / }],
  ["a string", "boom", { type: "string", message: "boom", stack: /^$/ }],
  ["an object", { code: 7 }, { type: "object", message: "[object Object]", stack: /^$/ }],
];
for (const [title, value, want] of thrown) {
  test(`err is always an object with type, message and stack: ${title}`, (t) => {
    const { lines, stream } = capture();
    createLogger("nls-test", "info", stream).error({ err: value }, "failed");
    const { err } = JSON.parse(lines[0]!) as { err: { type: string; message: string; stack: string } };
    t.is(err.type, want.type);
    t.is(err.message, want.message);
    t.regex(err.stack, want.stack);
  });
}

test("an error's cause and own fields are kept", (t) => {
  const inner = Object.assign(new Error("HTTP 409"), { code: 409 });
  const err = serializeError(new Error("status write failed", { cause: inner }));
  t.like(err, { message: "status write failed", cause: { message: "HTTP 409", code: 409 } });
});

const levels: Array<[string, boolean]> = [
  ["debug", true],
  ["silent", true],
  ["INFO", false],
  ["verbose", false],
];
for (const [value, ok] of levels) {
  test(`parseLogLevel(${JSON.stringify(value)})`, (t) => {
    if (ok) t.is(parseLogLevel(value) as string, value);
    else t.throws(() => parseLogLevel(value), { message: /invalid log level .*: expected one of trace, debug/ });
  });
}
