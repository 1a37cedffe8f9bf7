// The facts a benchmark figure means nothing without: which CPU, how many cores, how busy the machine
// was (the load average is taken again at the end of the run), which Node and which commit.
import { execFileSync } from "node:child_process";
import os from "node:os";

const loadAverage = () => os.loadavg().map((x) => Number(x.toFixed(2)));

function gitCommit(cwd) {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, encoding: "utf8" });
    return dirty.trim() ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return "unknown (not a git checkout)";
  }
}

/** Taken once at the start of a run. */
export function machineFacts(repoRoot) {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    totalMemoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    gitCommit: gitCommit(repoRoot),
    loadAverageAtStart: loadAverage(),
  };
}

export { loadAverage };
