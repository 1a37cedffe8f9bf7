import type { KubernetesObject, V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";

/**
 * Drops what the extender never reads from an object it is about to cache, in place (so the copy the
 * watch keeps for itself shrinks too), and returns it. From every kind: `metadata.managedFields`
 * (server-side apply bookkeeping), often the largest part of a PV or PVC. From PVs and PVCs, of which a
 * cluster holds tens of thousands, also what no placement, ledger or metric reads (`trimPv`,
 * `trimPvc`): at 50,000 PVs each such field is megabytes of heap. The extender only ever patches these
 * objects by name, never writes a cached copy back.
 */
export function trimForCache<T extends KubernetesObject>(obj: T, kind?: string): T {
  forget(obj.metadata, "managedFields");
  if (kind === "PersistentVolume") trimPv(obj as V1PersistentVolume);
  else if (kind === "PersistentVolumeClaim") trimPvc(obj as V1PersistentVolumeClaim);
  return obj;
}

/**
 * Kept: name, uid, resourceVersion, annotations, labels, deletionTimestamp; capacity, storage class,
 * node affinity, the claim's namespace, name and uid, the CSI driver, volume handle and open-local's
 * own volume attributes (`vgName`, `volumeType`, `Device`, `MountPoint`, …); the phase.
 */
function trimPv(pv: V1PersistentVolume): void {
  forget(pv.metadata, "finalizers", "creationTimestamp");
  const spec = pv.spec;
  if (spec) {
    forget(spec, "accessModes", "mountOptions", "persistentVolumeReclaimPolicy", "volumeMode");
    forget(spec.claimRef, "apiVersion", "fieldPath", "kind", "resourceVersion");
    const csi = spec.csi;
    if (csi) {
      forget(
        csi,
        "fsType",
        "controllerExpandSecretRef",
        "controllerPublishSecretRef",
        "nodeExpandSecretRef",
        "nodePublishSecretRef",
        "nodeStageSecretRef",
      );
      // Keys with a prefix (`csi.storage.k8s.io/pvc/name`, `storage.kubernetes.io/csiProvisionerIdentity`)
      // are the provisioner's; open-local's own attributes have none. A new object: deleting keys
      // would turn the old one into a dictionary, larger than what it dropped.
      const attrs = csi.volumeAttributes;
      if (attrs && Object.keys(attrs).some((k) => k.includes("/"))) {
        csi.volumeAttributes = Object.fromEntries(Object.entries(attrs).filter(([k]) => !k.includes("/")));
      }
    }
  }
  forget(pv.status, "lastPhaseTransitionTime");
}

/** Kept: metadata as for PVs; storage class, requests, volume name; the phase and capacity. */
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
