import type { NodeState } from "./placement.js";

/**
 * VGs whose committed bytes exceed what they can hold. Filter and the reserve route never promise more
 * than a VG holds, so this only happens by what the extender is not asked about: a PVC expansion
 * (external-resizer and the CSI driver grow the LV without a scheduler), an LV that no PV accounts for
 * appearing in a VG whose space was promised, or a VG that shrank. Pure: a node's state in.
 */
export interface Overcommit {
  vg: string;
  allocatable: number;
  committed: number;
  /** committed − allocatable (> 0). */
  bytes: number;
}

export function overcommittedVgs(state: NodeState): Overcommit[] {
  const out: Overcommit[] = [];
  state.view.vgs.forEach((vg, i) => {
    const free = state.free[i]!;
    if (free < 0)
      out.push({ vg: vg.name, allocatable: vg.allocatable, committed: vg.allocatable - free, bytes: -free });
  });
  return out;
}
