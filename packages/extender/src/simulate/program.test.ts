import test from "ava";
import type { CommanderError } from "commander";
import { fileURLToPath } from "node:url";
import { buildSimulateCommand } from "./program.js";

const SAMPLE = fileURLToPath(new URL("../../../../samples/cluster.yaml", import.meta.url));

/** Runs the command in-process; returns its stdout, or the usage error with its exit code. */
async function simulate(args: string[]): Promise<{ out: string } | { code: number; err: string }> {
  let err = "";
  let out = "";
  const cmd = buildSimulateCommand((text) => void (out += text))
    .exitOverride()
    .configureOutput({ writeErr: (s) => void (err += s) });
  try {
    await cmd.parseAsync(["node", "nls-simulate", ...args]);
    return { out };
  } catch (e) {
    return { code: (e as CommanderError).exitCode, err };
  }
}

test("the sample burst is placed with each strategy asked for", async (t) => {
  const r = await simulate(["--from-file", SAMPLE, "--pods", "2x10Gi", "--strategy", "spread,binpack,spread"]);
  t.true("out" in r);
  const lines = "out" in r ? r.out.split("\n") : [];
  t.deepEqual(
    lines.filter((l) => l.startsWith("strategy ")),
    ["strategy spread: 2 pods onto 3 nodes", "strategy binpack: 2 pods onto 3 nodes"],
  );
});

const usage: Array<[string, string[], RegExp]> = [
  ["no --from-file", ["--pods", "1x1Gi"], /^error: --from-file is required\n$/],
  ["no --pods", ["--from-file", SAMPLE], /^error: --pods is required\n$/],
  [
    "a file that is not there",
    ["--from-file", "/nonexistent/c.yaml", "--pods", "1x1Gi"],
    /^error: --from-file: ENOENT/,
  ],
  [
    "an unknown strategy",
    ["--from-file", SAMPLE, "--pods", "1x1Gi", "--strategy", "binpack,random"],
    /^error: option '--strategy <names>' value 'binpack,random' is invalid: invalid strategy "random"/,
  ],
  ["a bad burst", ["--from-file", SAMPLE, "--pods", "lots"], /^error: /],
  ["a stray word", ["run"], /^error: unexpected argument: run \(nls-simulate takes options only/],
];
for (const [title, args, message] of usage) {
  test(`a usage error exits 2: ${title}`, async (t) => {
    const r = await simulate(args);
    t.like(r, { code: 2 });
    t.regex("err" in r ? r.err : "", message);
  });
}
