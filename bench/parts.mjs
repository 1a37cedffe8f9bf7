/* global performance */
// The parts of `pnpm bench`, each run as its package's own bench script in a child process, so a
// part behaves exactly as when run alone. A part writes its figures as JSON files into the directory
// NLS_BENCH_DIR names (extender.json, scan.json, scheduler.json; {"skipped": why} when its tools are
// missing); every JSON file there becomes part of the part's figures, keyed by file name.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadAverage } from "./machine.mjs";

const words = (text) => (text ?? "").split(" ").filter(Boolean);

/**
 * 200 pods per PVC scenario rather than the scheduler bench's 500: its four-PVC scenarios are 800 claims
 * each for the stand-in provisioner, which keeps the whole run near a quarter of an hour on 2 cores.
 * Two rounds, the second in reverse order: no scenario is always the one run after the others.
 */
const DEFAULT_SCHEDULER_ARGS = "--pvc-pods=200 --rounds=2";

/**
 * name → where and what to run. The scheduler bench's arguments: NLS_BENCH_SCHEDULER_ARGS (the
 * head-to-head's: NLS_BENCH_HEAD_TO_HEAD_ARGS). The soak is
 * the extender's bench with BENCH_SOAK: ten minutes by default, since its target is RSS from minute 2
 * to minute 10 (NLS_BENCH_SOAK_SECONDS shortens it).
 */
export const parts = [
  { name: "extender", cwd: "packages/extender", script: "bench", args: [] },
  {
    name: "soak",
    cwd: "packages/extender",
    script: "bench",
    args: [],
    env: { BENCH_SOAK: process.env.NLS_BENCH_SOAK_SECONDS ?? "600" },
  },
  { name: "agent", cwd: "packages/agent", script: "bench", args: [] },
  {
    name: "scheduler",
    cwd: "test",
    script: "bench:scheduler",
    args: words(process.env.NLS_BENCH_SCHEDULER_ARGS ?? DEFAULT_SCHEDULER_ARGS),
  },
  {
    name: "head-to-head",
    cwd: "test",
    script: "bench:head-to-head",
    args: words(process.env.NLS_BENCH_HEAD_TO_HEAD_ARGS),
  },
];

function readFigures(dir) {
  const figures = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    figures[file.slice(0, -".json".length)] = JSON.parse(readFileSync(join(dir, file), "utf8"));
  }
  return figures;
}

/**
 * Runs one part with its output passed through. Never throws for the part's sake: a part that exits
 * non-zero or writes nothing is reported as failed, one whose figures all say skipped as skipped.
 */
export async function runPart(part, repoRoot, outDir) {
  const dir = join(outDir, part.name);
  mkdirSync(dir, { recursive: true });
  const loadAverageAtStart = loadAverage();
  const started = performance.now();
  console.log(`\n### ${part.name}: pnpm run ${[part.script, ...part.args].join(" ")} (in ${part.cwd})`);
  const child = spawn("pnpm", ["run", part.script, ...part.args], {
    cwd: join(repoRoot, part.cwd),
    env: { ...process.env, ...part.env, NLS_BENCH_DIR: dir },
    stdio: "inherit",
  });
  const [exitCode, signal] = await once(child, "exit").catch((err) => [`spawn failed: ${err.message}`]);
  const entry = {
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    loadAverageAtStart,
    loadAverageAtEnd: loadAverage(),
    exitCode: signal ? `signal ${signal}` : exitCode,
  };
  let figures;
  try {
    figures = readFigures(dir);
  } catch (err) {
    return { ...entry, status: "failed", why: `its figures could not be read: ${err.message}` };
  }
  const files = Object.values(figures);
  if (exitCode !== 0) return { ...entry, status: "failed", why: `exited with ${entry.exitCode}`, figures };
  if (files.length === 0) return { ...entry, status: "failed", why: "it wrote no figures", figures };
  if (files.every((f) => f.skipped)) {
    return { ...entry, status: "skipped", why: files.map((f) => f.skipped).join("; "), figures };
  }
  return { ...entry, status: "ran", figures };
}
