import test from "ava";
import { Command } from "commander";
import { rootCommand, runCli, StartupError, usageError } from "./program.js";

/** A program like a daemon's, its output captured: a root action, optionally a `scan` subcommand. */
function program(opts: { subcommand?: boolean; action?: () => Promise<void> } = {}) {
  const out = { stdout: "", stderr: "", ran: [] as string[] };
  const root = rootCommand("nls-test", "a test daemon", "1.2.3")
    .option("--port <port>", "a port")
    .configureOutput({ writeOut: (s) => void (out.stdout += s), writeErr: (s) => void (out.stderr += s) })
    .action(async () => {
      out.ran.push("root");
      await opts.action?.();
    });
  if (opts.subcommand) {
    root
      .command("scan")
      .option("--spec <file>", "a file")
      .action((o: { spec?: string }, cmd: Command) => {
        if (o.spec === "bad") usageError(cmd, "--spec bad: no such file");
        out.ran.push("scan");
      });
  }
  const run = (...args: string[]) => runCli(root, ["node", "nls-test", ...args]);
  return { out, run };
}

const cases: Array<{
  title: string;
  subcommand?: boolean;
  args: string[];
  code: number | undefined;
  stderr?: RegExp;
  ran: string[];
}> = [
  { title: "no arguments runs the daemon", args: [], code: undefined, ran: ["root"] },
  { title: "a subcommand runs", subcommand: true, args: ["scan"], code: undefined, ran: ["scan"] },
  {
    title: "a typo of a command is an unknown command, with the list of commands",
    subcommand: true,
    args: ["sacn"],
    code: 2,
    stderr: /^error: unknown command: sacn \(commands: scan; see nls-test --help\)\n$/,
    ran: [],
  },
  {
    title: "a stray word for a daemon without commands",
    args: ["serve"],
    code: 2,
    stderr: /^error: unexpected argument: serve \(nls-test takes options only; see nls-test --help\)\n$/,
    ran: [],
  },
  {
    title: "an unknown option exits 2, not commander's 1",
    args: ["--prot", "1"],
    code: 2,
    stderr: /unknown option '--prot'/,
    ran: [],
  },
  { title: "a missing option value exits 2", args: ["--port"], code: 2, stderr: /argument missing/, ran: [] },
  {
    title: "a usage error of a subcommand exits 2",
    subcommand: true,
    args: ["scan", "--spec", "bad"],
    code: 2,
    stderr: /^error: --spec bad: no such file\n$/,
    ran: [],
  },
  { title: "--help exits 0", args: ["--help"], code: 0, ran: [] },
  { title: "--version exits 0", args: ["--version"], code: 0, ran: [] },
];
for (const c of cases) {
  test(`runCli: ${c.title}`, async (t) => {
    const { out, run } = program({ subcommand: c.subcommand });
    t.is(await run(...c.args), c.code);
    t.deepEqual(out.ran, c.ran);
    if (c.stderr) t.regex(out.stderr, c.stderr);
    else t.is(out.stderr, "");
  });
}

test("runCli: --version prints the version on stdout", async (t) => {
  const { out, run } = program();
  await run("--version");
  t.is(out.stdout, "1.2.3\n");
});

const failures: Array<[string, Error, RegExp]> = [
  [
    "a StartupError is one line on stderr",
    new StartupError("cannot load kubeconfig /x: ENOENT:\n  no such file"),
    /^nls-test: error: cannot load kubeconfig \/x: ENOENT: no such file\n$/,
  ],
  [
    "any other error is a bug: its stack on stderr",
    new TypeError("x is undefined"),
    /^nls-test: TypeError: x is undefined\n\s+at /,
  ],
];
for (const [title, error, stderr] of failures) {
  test(`runCli: ${title}, exit 1`, async (t) => {
    const { out, run } = program({ action: () => Promise.reject(error) });
    t.is(await run(), 1);
    t.regex(out.stderr, stderr);
  });
}
