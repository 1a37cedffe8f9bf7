/** What the ordering rule reads of an object: its identity and version. */
export interface VersionedObject {
  metadata?: { uid?: string; resourceVersion?: string };
}

/**
 * Whether `incoming` is an older version of the object a cache holds as `current`. Watches of
 * different kinds are not ordered with each other, and a client may apply what its own write returned
 * before the watch echoes it, so an event can arrive after a newer version of the same object.
 * Versions of one object are compared as numbers (etcd revisions); a recreated object (new uid) or a
 * version that is not a number is never called stale.
 */
export function isStale(incoming: VersionedObject, current: VersionedObject | undefined): boolean {
  if (!current || incoming.metadata?.uid !== current.metadata?.uid) return false;
  const a = revision(incoming.metadata?.resourceVersion);
  const b = revision(current.metadata?.resourceVersion);
  return a !== undefined && b !== undefined && a < b;
}

function revision(v: string | undefined): bigint | undefined {
  return v && /^\d{1,30}$/.test(v) ? BigInt(v) : undefined;
}
