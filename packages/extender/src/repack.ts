import type { Allocation, NodeUsage } from "./ledger.js";
import type { NodeView } from "./node-view.js";
import { nodeState, Placer } from "./placement.js";
import type { Strategy } from "./scoring.js";
import type { VolumeRequest } from "./request.js";

/**
 * A claim on a node whose VG, device or mount point nobody has decided yet: a selected PVC waiting for
 * the reserve route, or a tentative reservation, of a class that names no VG (or a Device or MountPoint
 * class).
 */
export interface LooseClaim {
  key: string;
  request: VolumeRequest;
}

/**
 * Where a node's loose claims go, all at once, by the same search filter uses (largest first, the
 * strategy's order, backtracking when greedy fails). Packing them together instead of one by one in
 * arrival order is what keeps a replay after a restart from refusing what fits: 40, 50, 60 and 50Gi
 * arriving in that order on two 100Gi VGs go {60, 40} and {50, 50}, not 90 and 60 with no room for
 * the last.
 *
 * `base` is the node's usage without the loose claims. When they cannot all fit, each is placed in
 * turn where it still fits and the rest are left without a VG (node-level bytes), so the overcommit
 * stays visible instead of vanishing. The result is a function of its inputs only (claims are taken
 * in size, then key, order), so a rebuilt ledger packs the same way.
 */
export function repackLoose(
  view: NodeView,
  base: NodeUsage | undefined,
  claims: readonly LooseClaim[],
  strategy: Strategy,
): Map<string, Allocation> {
  const sorted = [...claims].sort(
    (a, b) => b.request.bytes - a.request.bytes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  const out = new Map<string, Allocation>();
  const all = new Placer(
    sorted.map((c) => c.request),
    strategy,
  );
  if (all.place(nodeState(view, base))) {
    all.placements().forEach((a, i) => out.set(sorted[i]!.key, { ...a, loose: true }));
    return out;
  }
  const running: NodeUsage = {
    vg: new Map(base?.vg ?? []),
    devices: new Map(base?.devices ?? []),
    unplaced: base?.unplaced ?? 0,
    volumes: base?.volumes ?? 0,
  };
  for (const c of sorted) {
    const one = new Placer([c.request], strategy);
    if (one.place(nodeState(view, running))) {
      const a = { ...one.placements()[0]!, loose: true };
      out.set(c.key, a);
      const unit = a.device ?? a.mountPoint;
      if (unit) running.devices.set(unit, c.key);
      else running.vg.set(a.vg!, (running.vg.get(a.vg!) ?? 0) + a.bytes);
    } else out.set(c.key, { node: view.name, bytes: c.request.bytes, loose: true });
  }
  return out;
}
