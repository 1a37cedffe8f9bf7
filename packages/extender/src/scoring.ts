import { MAX_EXTENDER_SCORE, MIN_EXTENDER_SCORE } from "@nls/api";

/** How a node's score follows its utilisation (`--strategy`). */
export type Strategy = "binpack" | "spread";
export const STRATEGIES: readonly Strategy[] = ["binpack", "spread"];

/**
 * Node score from its utilisation *after* the pod is placed, over the storage kinds the pod asks for
 * (the node's selected VGs for LVM volumes, its selected devices for Device volumes):
 *
 *   u = used_after / capacity                    (0 ≤ u ≤ 1)
 *   binpack: score = round(10 × u)               fill nodes up, keep whole nodes free for big volumes
 *   spread:  score = round(10 × (1 − u))         keep utilisation even, leave headroom everywhere
 *
 * A node without capacity of that kind scores 0. kube-scheduler adds `score × weight × 10`.
 */
export function score(strategy: Strategy, used: number, capacity: number): number {
  if (!(capacity > 0)) return MIN_EXTENDER_SCORE;
  const u = Math.min(1, Math.max(0, used / capacity));
  const s = Math.round((strategy === "binpack" ? u : 1 - u) * MAX_EXTENDER_SCORE);
  return Math.min(MAX_EXTENDER_SCORE, Math.max(MIN_EXTENDER_SCORE, s));
}
