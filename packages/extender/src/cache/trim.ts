import type { KubernetesObject, V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";

/**
 * Drops what the extender never reads from an object it is about to cache, in place (so the copy the
 * watch keeps for itself shrinks too), and returns it. From every kind: `metadata.managedFields`
 * (server-side apply bookkeeping), often the largest part of an object. From PVCs, of which a cluster
 * holds tens of thousands, also what no placement, ledger or metric reads (`trimPvc`). A PV is read
 * once into the store's record (`PvRecord`) and then let go of by `releaseAfterApply`. The extender
 * only ever patches these objects by name, never writes a cached copy back.
 */
export function trimForCache<T extends KubernetesObject>(obj: T, kind?: string): T {
  forget(obj.metadata, "managedFields");
  if (kind === "PersistentVolumeClaim") trimPvc(obj as V1PersistentVolumeClaim);
  return obj;
}

/**
 * What the informer's own copy of an object needs once the store has applied it. client-node's
 * ListWatch keeps every object it delivered, keyed by namespace and name, compares resourceVersions to
 * skip unchanged ones on a relist, and hands a vanished object to the delete handler, which reads its
 * name. The store keeps a PV as a record of its own, so the PV object keeps only those fields: at
 * 50,000 PVs the full objects cost tens of MiB the store no longer shares.
 */
export function releaseAfterApply(obj: KubernetesObject, kind: string): void {
  if (kind !== "PersistentVolume" || !obj.metadata) return;
  const { name, namespace, uid, resourceVersion } = obj.metadata;
  obj.metadata = { name, namespace, uid, resourceVersion };
  forget(obj as V1PersistentVolume, "spec", "status");
}

/** Kept: name, uid, resourceVersion, annotations, labels; storage class, requests, volume name; the phase and capacity. */
function trimPvc(pvc: V1PersistentVolumeClaim): void {
  forget(pvc.metadata, "finalizers", "creationTimestamp");
  forget(pvc.spec, "accessModes", "volumeMode");
  forget(pvc.status, "accessModes", "conditions");
}

/**
 * Lets go of what `keys` hold: set to undefined rather than deleted, which keeps the object's shape
 * (V8 turns an object that loses a property other than its last into a dictionary, larger than what
 * it dropped). A key the object does not have is not added.
 */
function forget<T extends object>(obj: T | undefined, ...keys: Array<keyof T>): void {
  if (!obj) return;
  for (const key of keys) if (obj[key] !== undefined) obj[key] = undefined as T[keyof T];
}
