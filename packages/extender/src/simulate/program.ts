import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { addFlags, asText, flag, readFlags, rootCommand, usageError, versionText } from "@nls/daemon";
import { parseStrategy } from "../flags.js";
import { BUILD } from "../program.js";
import { STRATEGIES, type Strategy } from "../scoring.js";
import { simulationReport } from "./report.js";

/** `--strategy binpack,spread`: one section per strategy, in the order given. */
export function parseStrategies(value: string): Strategy[] {
  return [...new Set(value.split(",").map((s) => parseStrategy(s.trim())))];
}

const SIMULATE_FLAGS = {
  fromFile: flag({
    flags: "--from-file <path>",
    help: "the cluster: Nodes, NodeLocalStorages, StorageClasses, PVs and PVCs as YAML or JSON (kubectl get -o yaml)",
    parse: asText,
  }),
  pods: flag({
    flags: "--pods <burst>",
    help: "pods to place, comma-separated [COUNTx]SIZE[+SIZE…][@CLASS] (one PVC per SIZE), e.g. 10x20Gi,2x5Gi+1Gi@fast",
    parse: asText,
  }),
  strategy: flag({
    flags: "--strategy <names>",
    help: `comma-separated, of ${STRATEGIES.join(", ")}`,
    default: STRATEGIES.join(","),
    parse: parseStrategies,
  }),
};

/** `nls-simulate`: the burst placed on the cluster file, printed; every input problem is a usage error (exit 2). */
export function buildSimulateCommand(
  write: (text: string) => void = (text) => void process.stdout.write(text),
): Command {
  const program = rootCommand(
    "nls-simulate",
    "places a burst of pods with local PVCs onto a cluster described in a file, with the extender's own " +
      "filter and ledger; prints where each pod goes (or why it fits nowhere) and each VG's usage",
    versionText(BUILD),
  );
  return addFlags(program, SIMULATE_FLAGS).action((_opts: unknown, cmd: Command) => {
    const { fromFile, pods, strategy } = readFlags(cmd, SIMULATE_FLAGS);
    if (fromFile === undefined) usageError(cmd, "--from-file is required");
    if (pods === undefined) usageError(cmd, "--pods is required");
    let text: string;
    try {
      text = readFileSync(fromFile, "utf8");
    } catch (e) {
      usageError(cmd, `--from-file: ${(e as Error).message}`);
    }
    const report = simulationReport(text, fromFile, { pods, strategies: strategy });
    if (!report.ok) usageError(cmd, report.error);
    write(`${report.lines.join("\n")}\n`);
  });
}
