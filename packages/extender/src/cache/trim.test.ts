import test from "ava";
import type { V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { pv, pvc } from "@nls/testkit";
import { pvAllocation } from "../claims.js";
import { trimForCache } from "./trim.js";

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

/** What a PV's metadata keeps. */
const keptMetadata = () => ({
  name: "pv-1",
  uid: "u-1",
  resourceVersion: "42",
  labels: { team: "a" },
  annotations: { "pv.kubernetes.io/provisioned-by": "local.csi.aliyun.com" },
});

/** A PV as external-provisioner writes it for open-local's CSI driver. */
const provisionedPv = (): V1PersistentVolume => ({
  metadata: {
    ...keptMetadata(),
    finalizers: ["kubernetes.io/pv-protection"],
    creationTimestamp: new Date("2026-11-29T10:00:00Z"),
  },
  spec: {
    capacity: { storage: "10Gi" },
    accessModes: ["ReadWriteOnce"],
    persistentVolumeReclaimPolicy: "Delete",
    storageClassName: "lvm",
    volumeMode: "Filesystem",
    claimRef: {
      kind: "PersistentVolumeClaim",
      apiVersion: "v1",
      namespace: "ns",
      name: "c",
      uid: "c-1",
      resourceVersion: "7",
    },
    csi: {
      driver: "local.csi.aliyun.com",
      volumeHandle: "disk-c-1",
      fsType: "ext4",
      volumeAttributes: {
        vgName: "pool-0",
        volumeType: "LVM",
        "csi.storage.k8s.io/pvc/name": "c",
        "storage.kubernetes.io/csiProvisionerIdentity": "1764410000000-8081-local.csi.aliyun.com",
      },
    },
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n1"] }] }],
      },
    },
  },
  status: { phase: "Bound", lastPhaseTransitionTime: new Date("2026-11-29T10:00:01Z") },
});

test("a PV keeps what placement, the ledger and the metrics read, and loses the rest", (t) => {
  const full = provisionedPv();
  const allocation = pvAllocation(structuredClone(full));
  const trimmed = trimForCache(full, "PersistentVolume");
  t.is(trimmed, full, "in place");
  t.deepEqual(json(trimmed), {
    metadata: keptMetadata(),
    spec: {
      capacity: { storage: "10Gi" },
      storageClassName: "lvm",
      claimRef: { namespace: "ns", name: "c", uid: "c-1" },
      csi: {
        driver: "local.csi.aliyun.com",
        volumeHandle: "disk-c-1",
        volumeAttributes: { vgName: "pool-0", volumeType: "LVM" },
      },
      nodeAffinity: full.spec!.nodeAffinity,
    },
    status: { phase: "Bound" },
  });
  t.deepEqual(pvAllocation(trimmed), allocation);
  t.deepEqual(allocation, { node: "n1", vg: "pool-0", bytes: 10 * 2 ** 30 });
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
