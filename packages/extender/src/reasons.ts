import type { NodeView } from "./node-view.js";
import type { VolumeRequest } from "./request.js";

/**
 * The reasons kube-scheduler shows. It groups the FailedScheduling event by identical reason text, so a
 * reason that carries a node's own numbers turns `0/500 nodes are available` into 500 distinct clauses,
 * truncated. Each failure class therefore has a short text that is the same on every node for one pod
 * (`480 insufficient local storage (LVM), 20 local storage agent not reporting`); the node's numbers go
 * to the extender's log, `/cache` and `kubectl nls explain`. Reasons that name only the pod's own
 * objects (a pin to a node, an invalid PVC) are already the same on every node and are shown as they are.
 */

export const NO_NLS_REASON = "no local storage reported (no NodeLocalStorage)";
export const AGENT_REASON = "local storage agent not reporting";

/** The short reason of a node whose selected VGs or devices cannot hold the pod's new volumes. */
export function capacityReason(requests: readonly VolumeRequest[], view: NodeView): string {
  return capacityReasons(requests)(view);
}

/**
 * `capacityReason` for one pod's requests, as a function of the node: the text is the same on every
 * node but one missing a named VG, so a filter pass builds it once instead of once per failing node.
 */
export function capacityReasons(requests: readonly VolumeRequest[]): (view: NodeView) => string {
  const kinds = new Set(requests.map((r) => r.kind));
  const names = [kinds.has("lvm") && "LVM", kinds.has("device") && "Device", kinds.has("mountpoint") && "MountPoint"];
  const common = `insufficient local storage (${names.filter(Boolean).join(" and ")})`;
  const named = requests.flatMap((r) => (r.kind === "lvm" && r.vgName !== undefined ? [r.vgName] : []));
  if (named.length === 0) return () => common;
  return (view) => {
    for (const vg of named) if (!view.vgIndex.has(vg)) return `volume group ${vg} not available`;
    return common;
  };
}

/** The nodes that gave one short reason: how many, and one of them with its numbers. */
export interface RefusalGroup {
  nodes: number;
  example: { node: string; detail: string };
}

/**
 * The refusals of one filter pass by short reason, each with one node's numbers: what the filter log line
 * carries, so a single line says both what kube-scheduler showed and why in figures.
 */
export function refusalSummary(
  unresolvable: Readonly<Record<string, string>>,
  details: Readonly<Record<string, string>>,
): Record<string, RefusalGroup> {
  const out: Record<string, RefusalGroup> = {};
  for (const node in unresolvable) {
    const reason = unresolvable[node]!;
    const group = out[reason];
    if (group) group.nodes++;
    else out[reason] = { nodes: 1, example: { node, detail: details[node] ?? reason } };
  }
  return out;
}
