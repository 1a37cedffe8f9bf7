#!/usr/bin/env node
import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { parseStrategy } from "../flags.js";
import { STRATEGIES, type Strategy } from "../scoring.js";
import { simulationReport } from "./report.js";

/** `--strategy binpack,spread`: one section per strategy, in the order given. */
function parseStrategies(value: string): Strategy[] {
  try {
    return [...new Set(value.split(",").map((s) => parseStrategy(s.trim())))];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function buildSimulateCommand(): Command {
  return new Command("nls-simulate")
    .description(
      "places a burst of pods with local PVCs onto a cluster described in a file, with the extender's own " +
        "filter, prioritize and ledger; prints where each pod goes (or why it fits nowhere) and each VG's usage",
    )
    .requiredOption(
      "--from-file <path>",
      "the cluster: Nodes, NodeLocalStorages, StorageClasses, PVs and PVCs as YAML or JSON (kubectl get -o yaml)",
    )
    .requiredOption(
      "--pods <burst>",
      "pods to place, comma-separated [COUNTx]SIZE[+SIZE…][@CLASS] (one PVC per SIZE), e.g. 10x20Gi,2x5Gi+1Gi@fast",
    )
    .addOption(
      new Option("--strategy <names>", `comma-separated, of ${STRATEGIES.join(", ")}`)
        .default(STRATEGIES, STRATEGIES.join(","))
        .argParser(parseStrategies),
    )
    .action((opts: { fromFile: string; pods: string; strategy: Strategy[] }, cmd: Command) => {
      let text: string;
      try {
        text = readFileSync(opts.fromFile, "utf8");
      } catch (e) {
        cmd.error(`error: --from-file: ${(e as Error).message}`, { exitCode: 2 });
      }
      const report = simulationReport(text, opts.fromFile, { pods: opts.pods, strategies: opts.strategy });
      if (!report.ok) cmd.error(`error: ${report.error}`, { exitCode: 2 });
      process.stdout.write(`${report.lines.join("\n")}\n`);
    });
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) buildSimulateCommand().parse(process.argv);
