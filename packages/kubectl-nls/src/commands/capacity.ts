import { localClassOf } from "@nls/extender";
import { capacity, type CapacityQuery } from "../capacity/capacity.js";
import { renderCapacity, type LedgerSource } from "../capacity/render.js";
import type { ClusterReader } from "../cluster/reader.js";
import { storeFor } from "../cluster/state.js";
import { machineText } from "../output/format.js";
import { CommandError, decisionInputs, type CommonOptions } from "./inputs.js";

export interface CapacityOptions {
  node?: string;
  storageClass?: string;
}

/** `kubectl nls capacity`: the table (or JSON/YAML) of how much room is left, per node and VG. */
export async function capacityCommand(
  reader: ClusterReader,
  common: CommonOptions,
  options: CapacityOptions,
  now: () => number,
): Promise<string> {
  const { settings, extender } = await decisionInputs(reader, common);
  const state = await reader.state(settings.leaseNamespace);
  const query: CapacityQuery = {};
  if (options.node !== undefined) {
    const known = state.objects.nls.some((n) => n.metadata.name === options.node);
    const isNode = state.objects.nodes.some((n) => n.metadata?.name === options.node);
    if (!known && !isNode) throw new CommandError(`node ${options.node} not found (no Node, no NodeLocalStorage)`);
    query.node = options.node;
  }
  if (options.storageClass !== undefined) {
    const sc = state.objects.storageClasses.find((c) => c.metadata?.name === options.storageClass);
    if (!sc) throw new CommandError(`StorageClass ${options.storageClass} not found`);
    const local = localClassOf(sc);
    if (!local) throw new CommandError(`StorageClass ${options.storageClass} is ${sc.provisioner}'s, not nls'`);
    query.localClass = local;
  }
  let source: LedgerSource;
  let ledger = extender.ledger;
  if (ledger) {
    const reservations = Object.values(ledger.claims).filter((c) => c.source === "tentative").length;
    source = { kind: "extender", from: extender.from!, reservations };
  } else {
    ledger = storeFor(state, settings).ledger.snapshot();
    source = { kind: "objects", why: extender.unavailable ?? "" };
  }
  const result = capacity(state, ledger, settings, now(), query);
  if (common.output === "json" || common.output === "yaml") {
    return machineText(common.output, { committedFrom: source, settings, ...result });
  }
  return `${renderCapacity(result, source, common.output === "wide").join("\n")}\n`;
}
