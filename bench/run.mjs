// `pnpm bench`: every benchmark of the repository in one run — the extender's filter/prioritize
// latency, the agent's scan, the real kube-scheduler's throughput — one table with each target beside
// its figure, and the same as JSON in bench/results/<date>.json with the machine's facts. A part whose
// tools are missing reports "skipped" and why; a part that fails is reported and makes the run exit 1
// after the table. NLS_BENCH_ONLY=extender,soak,agent,scheduler,head-to-head runs a subset; the knobs: README.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAverage, machineFacts } from "./machine.mjs";
import { parts, runPart } from "./parts.mjs";
import { renderReport } from "./render.mjs";
import { rowsFor, sectionNotes } from "./targets.mjs";

const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const only = (process.env.NLS_BENCH_ONLY ?? "").split(",").filter(Boolean);
const selected = parts.filter((p) => only.length === 0 || only.includes(p.name));

const machine = machineFacts(repoRoot);
const workDir = mkdtempSync(join(os.tmpdir(), "nls-bench-"));
const sections = [];
try {
  for (const part of selected) {
    const result = await runPart(part, repoRoot, workDir);
    sections.push({
      name: part.name,
      ...result,
      notes: sectionNotes(part.name, result.figures),
      rows: rowsFor[part.name](result.figures ?? {}),
    });
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

const report = { machine, loadAverageAtEnd: loadAverage(), sections };
console.log(renderReport(report));
const resultsDir = join(repoRoot, "bench/results");
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${machine.date.replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nfigures written to ${file}`);
if (sections.some((s) => s.status === "failed")) process.exitCode = 1;
