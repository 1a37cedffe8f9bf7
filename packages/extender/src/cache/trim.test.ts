import test from "ava";
import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { pv, pvc } from "@nls/testkit";
import { releaseAfterApply, trimForCache } from "./trim.js";

/** What an object says: fields let go of are undefined (the object keeps its shape), as if absent. */
const json = (o: unknown): unknown => JSON.parse(JSON.stringify(o));

test("managedFields are dropped in place from any kind; everything else the object carries stays", (t) => {
  const full = pv("pv-1", { node: "n1", size: "10Gi", vgName: "pool-0", claim: { namespace: "ns", name: "c" } });
  const expected = structuredClone(full);
  full.metadata!.managedFields = [{ manager: "csi-provisioner", operation: "Update", fieldsType: "FieldsV1" }];
  t.is(trimForCache(full, "NodeLocalStorage"), full);
  t.deepEqual(json(full), json(expected));
  t.is(full.metadata!.managedFields as unknown, undefined);
  t.deepEqual(trimForCache({ metadata: { name: "x" } }), { metadata: { name: "x" } });
  t.deepEqual(trimForCache({}, "PersistentVolume"), {});
  t.deepEqual(trimForCache({}, "PersistentVolumeClaim"), {});
});

test("once applied, a PV's informer copy keeps only what the watch cache reads: name, uid, resourceVersion", (t) => {
  const volume = pv("pv-1", { node: "n1", size: "10Gi", vgName: "pool-0", claim: { namespace: "ns", name: "c" } });
  volume.metadata = { ...volume.metadata, uid: "u-1", resourceVersion: "42", labels: { team: "a" } };
  releaseAfterApply(volume, "PersistentVolume");
  t.deepEqual(json(volume), { metadata: { name: "pv-1", uid: "u-1", resourceVersion: "42" } });

  const claim = pvc("ns", "c", { className: "lvm", size: "10Gi" });
  const before = structuredClone(claim);
  releaseAfterApply(claim, "PersistentVolumeClaim");
  t.deepEqual(claim, before, "the store keeps PVC objects: their copy is left whole");
  const nothing = {};
  releaseAfterApply(nothing, "PersistentVolume");
  t.deepEqual(nothing, {});
});

test("a PVC keeps its class, requests, volume, annotations and phase", (t) => {
  const full: V1PersistentVolumeClaim = pvc("ns", "c", { className: "lvm", size: "10Gi" });
  full.metadata!.finalizers = ["kubernetes.io/pvc-protection"];
  full.metadata!.creationTimestamp = new Date("2026-11-29T10:00:00Z");
  full.spec!.accessModes = ["ReadWriteOnce"];
  full.spec!.volumeMode = "Filesystem";
  full.spec!.volumeName = "pv-1";
  full.status = {
    phase: "Bound",
    capacity: { storage: "10Gi" },
    accessModes: ["ReadWriteOnce"],
    conditions: [{ type: "Resizing", status: "True" }],
  };
  const expected = structuredClone(full);
  delete expected.metadata!.finalizers;
  delete expected.metadata!.creationTimestamp;
  delete expected.spec!.accessModes;
  delete expected.spec!.volumeMode;
  delete expected.status!.accessModes;
  delete expected.status!.conditions;
  t.deepEqual(json(trimForCache(full, "PersistentVolumeClaim")), json(expected));
  t.is(full.spec!.resources!.requests!.storage, "10Gi");
});
