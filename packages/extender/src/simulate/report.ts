import type { Strategy } from "../scoring.js";
import { clusterObjectsFromText, defaultLocalClass, localClassNames } from "./cluster-objects.js";
import { describeBurst, parsePodBurst } from "./pod-burst.js";
import { renderSimulation } from "./render.js";
import { simulate, SimulationInputError } from "./simulate.js";

export interface ReportOptions {
  /** The burst, e.g. `6x30Gi,2x20Gi@fast` (see parsePodBurst). */
  pods: string;
  strategies: readonly Strategy[];
}

/**
 * The whole `simulate` command without its I/O: the text of a cluster file (YAML or JSON, one or more
 * documents, `kind: List` allowed) and the options in, the report's lines (or a usage error) out.
 * One section per strategy; each ends with `placed N of M pods`.
 */
export function simulationReport(
  text: string,
  source: string,
  options: ReportOptions,
): { ok: true; lines: string[] } | { ok: false; error: string } {
  const parsed = clusterObjectsFromText(text, source);
  if (!parsed.ok) return parsed;
  const objects = parsed.objects;
  const burst = parsePodBurst(options.pods, defaultLocalClass(objects));
  if (!burst.ok) {
    const classes = localClassNames(objects);
    return { ok: false, error: `--pods: ${burst.error} (local classes in ${source}: ${classes.join(", ") || "none"})` };
  }
  const ignored = Object.entries(objects.ignored).map(([kind, n]) => `${n} ${kind}`);
  const lines = [
    `cluster ${source}: ${objects.nodes.length} Nodes, ${objects.nls.length} NodeLocalStorages, ` +
      `${objects.storageClasses.length} StorageClasses, ${objects.pvs.length} PVs, ${objects.pvcs.length} PVCs` +
      (ignored.length ? ` (not read: ${ignored.join(", ")})` : ""),
    `pods ${describeBurst(burst.pods)}`,
  ];
  for (const strategy of options.strategies) {
    let sim;
    try {
      sim = simulate(objects, burst.pods, strategy);
    } catch (e) {
      if (e instanceof SimulationInputError) return { ok: false, error: `--pods: ${e.message}` };
      throw e;
    }
    lines.push("", ...renderSimulation(sim));
  }
  return { ok: true, lines };
}
