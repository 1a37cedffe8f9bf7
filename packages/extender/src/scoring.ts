/** Which nodes the extender prefers (`--strategy`). */
export type Strategy = "binpack" | "spread";
export const STRATEGIES: readonly Strategy[] = ["binpack", "spread"];

/**
 * How much the strategy likes a node, from its utilisation *after* the pod is placed, over the storage
 * kinds the pod asks for (the node's selected VGs for LVM volumes, its selected devices for Device
 * volumes):
 *
 *   u = used_after / capacity                    (0 ≤ u ≤ 1)
 *   binpack: u                                   fill nodes up, keep whole nodes free for big volumes
 *   spread:  1 − u                               keep utilisation even, leave headroom everywhere
 *
 * Exact, not rounded: the extender picks the single node it holds the pod's volumes on by this value
 * (ties broken by node name), and a rounded score would tie far more often. A node without capacity
 * of that kind scores 0.
 */
export function preference(strategy: Strategy, used: number, capacity: number): number {
  if (!(capacity > 0)) return 0;
  const u = Math.min(1, Math.max(0, used / capacity));
  return strategy === "binpack" ? u : 1 - u;
}
