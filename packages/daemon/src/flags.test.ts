import test from "ava";
import { Command } from "commander";
import { addFlags, asText, flag, parseOneOf, readFlags, switchFlag } from "./flags.js";

const parseCount = (value: string) => {
  if (!/^\d+$/.test(value)) throw new Error(`invalid count "${value}": expected a whole number`);
  return Number(value);
};

const FLAGS = {
  count: flag({ flags: "--count <n>", help: "how many", env: "NLS_TEST_COUNT", default: "3", parse: parseCount }),
  name: flag({ flags: "--name <name>", help: "a name", env: "NLS_TEST_NAME", parse: asText }),
  prefix: flag({ flags: "--prefix <cmd>", help: "a prefix", default: "", parse: asText }),
  seed: switchFlag("--seed", "use the seed"),
  output: flag({
    flags: "-o, --output <format>",
    help: "format",
    default: "yaml",
    parse: parseOneOf("output", ["yaml", "json"]),
  }),
};

/**
 * Parses `args` with `env` set, returning the values or the usage error commander would print.
 * Synchronous, so concurrent tests never see each other's environment.
 */
function parse(args: string[], env: Record<string, string> = {}) {
  let error = "";
  let values: ReturnType<typeof readFlags<typeof FLAGS>> | undefined;
  const cmd = addFlags(new Command("t"), FLAGS)
    .exitOverride()
    .configureOutput({ writeErr: (s) => void (error += s) })
    .action((_o, c: Command) => void (values = readFlags(c, FLAGS)));
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    cmd.parse(["node", "t", ...args]);
  } catch {
    // exitOverride throws once the error is written.
  } finally {
    process.env = saved;
  }
  return values ?? error;
}

test("defaults are parsed like given values; a flag without default is undefined", (t) => {
  t.deepEqual(parse([]), { count: 3, name: undefined, prefix: "", seed: undefined, output: "yaml" });
});

test("a flag wins over its variable, and both are parsed", (t) => {
  t.like(parse(["--count", "7"], { NLS_TEST_COUNT: "9" }), { count: 7 });
  t.like(parse([], { NLS_TEST_COUNT: "9", NLS_TEST_NAME: "n1" }), { count: 9, name: "n1" });
  t.like(parse(["--seed", "-o", "json"]), { seed: true, output: "json" });
});

const bad: Array<[string[], Record<string, string>, RegExp]> = [
  [
    ["--count", "many"],
    {},
    /^error: option '--count <n>' value 'many' is invalid: invalid count "many": expected a whole number\n$/,
  ],
  [
    [],
    { NLS_TEST_COUNT: "x" },
    /^error: option '--count <n>' value 'x' from env 'NLS_TEST_COUNT' is invalid: invalid count "x"/,
  ],
  [
    ["-o", "xml"],
    {},
    /option '-o, --output <format>' value 'xml' is invalid: invalid output "xml": expected one of yaml, json/,
  ],
];
for (const [args, env, message] of bad) {
  test(`a bad value is a usage error naming flag, value and source: ${JSON.stringify([args, env])}`, (t) => {
    t.regex(parse(args, env) as string, message);
  });
}

test("--help shows each flag's variable and default (an empty default as none)", (t) => {
  const help = addFlags(new Command("t"), FLAGS).helpInformation().replace(/\s+/g, " ");
  t.regex(help, /--count <n> how many \(default: 3, env: NLS_TEST_COUNT\)/);
  t.regex(help, /--name <name> a name \(env: NLS_TEST_NAME\)/);
  t.regex(help, /--prefix <cmd> a prefix \(default: none\)/);
});

test("a flag declared under another name than commander stores it under is a programming error", (t) => {
  t.throws(
    () => addFlags(new Command("t"), { leaseNs: flag({ flags: "--lease-namespace <ns>", help: "", parse: asText }) }),
    {
      message: /--lease-namespace <ns> is stored as "leaseNamespace", declared as "leaseNs"/,
    },
  );
});
