import {
  clusterObjectsFromText,
  defaultLocalClass,
  describeBurst,
  localClassNames,
  parsePodBurst,
  simulate,
  SimulationInputError,
  type ClusterObjects,
} from "@nls/extender";
import type { ClusterReader } from "../cluster/reader.js";
import { machineText } from "../output/format.js";
import { simulationObjects } from "../simulate/live.js";
import { renderWhatIf } from "../simulate/render.js";
import { CommandError, decisionInputs, DEFAULT_SETTINGS, type CommonOptions } from "./inputs.js";

export interface SimulateOptions {
  pods: string;
  /** The class of groups without `@CLASS`. */
  storageClass?: string;
  /** A file of objects to simulate on instead of the live cluster. */
  fromFile?: { path: string; text: string };
}

/**
 * `kubectl nls simulate`: places a burst of pods with the extender's own decision code onto the live
 * cluster's state (nodes whose agent is not trusted left out) or onto a file of objects (offline, no
 * cluster needed, every agent taken as healthy). Nothing is written anywhere.
 */
export async function simulateCommand(
  reader: ClusterReader | undefined,
  common: CommonOptions,
  options: SimulateOptions,
  now: () => number,
): Promise<string> {
  let objects: ClusterObjects;
  let strategy = common.overrides.strategy ?? DEFAULT_SETTINGS.strategy;
  let excluded: Array<{ node: string; why: string }> = [];
  let source: string;
  if (options.fromFile) {
    const parsed = clusterObjectsFromText(options.fromFile.text, options.fromFile.path);
    if (!parsed.ok) throw new CommandError(`--from-file: ${parsed.error}`, 2);
    objects = parsed.objects;
    source = options.fromFile.path;
  } else {
    if (!reader) throw new CommandError("no cluster to read (pass --from-file to simulate offline)");
    const { settings } = await decisionInputs(reader, common);
    strategy = settings.strategy;
    ({ objects, excluded } = simulationObjects(await reader.state(settings.leaseNamespace), settings, now()));
    source = "the cluster";
  }
  const burst = parsePodBurst(options.pods, options.storageClass ?? defaultLocalClass(objects));
  if (!burst.ok) {
    throw new CommandError(
      `--pods: ${burst.error} (nls classes in ${source}: ${localClassNames(objects).join(", ") || "none"})`,
      2,
    );
  }
  let sim;
  try {
    sim = simulate(objects, burst.pods, strategy);
  } catch (e) {
    if (e instanceof SimulationInputError) throw new CommandError(`--pods: ${e.message}`, 2);
    throw e;
  }
  if (common.output === "json" || common.output === "yaml") {
    return machineText(common.output, { burst: describeBurst(burst.pods), excluded, ...sim });
  }
  return `${renderWhatIf(sim, describeBurst(burst.pods), excluded, common.output === "wide").join("\n")}\n`;
}
