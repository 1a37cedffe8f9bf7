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
  let lvm = false;
  let device = false;
  let mountPoint = false;
  for (const r of requests) {
    if (r.kind === "lvm") {
      lvm = true;
      if (r.vgName !== undefined && !view.vgIndex.has(r.vgName)) return `volume group ${r.vgName} not available`;
    } else if (r.kind === "device") device = true;
    else mountPoint = true;
  }
  const kinds = [lvm && "LVM", device && "Device", mountPoint && "MountPoint"].filter(Boolean);
  return `insufficient local storage (${kinds.join(" and ")})`;
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
