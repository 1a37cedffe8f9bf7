import type { KubernetesObject } from "@kubernetes/client-node";

/**
 * Whether `incoming` is an older version of the object the cache holds as `current`. Watches of
 * different kinds are not ordered with each other, and the reserve route applies the PVC its own patch
 * returned before the watch echoes it, so a PVC event can arrive after a newer version of the same
 * object. Versions of one object are compared as numbers (etcd revisions); a recreated object (new
 * uid) or a version that is not a number is never called stale.
 */
export function isStale(incoming: KubernetesObject, current: KubernetesObject | undefined): boolean {
  if (!current || incoming.metadata?.uid !== current.metadata?.uid) return false;
  const a = revision(incoming.metadata?.resourceVersion);
  const b = revision(current.metadata?.resourceVersion);
  return a !== undefined && b !== undefined && a < b;
}

function revision(v: string | undefined): bigint | undefined {
  return v && /^\d{1,30}$/.test(v) ? BigInt(v) : undefined;
}
