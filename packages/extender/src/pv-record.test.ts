import test from "ava";
import type { V1PersistentVolume } from "@kubernetes/client-node";
import { pv } from "@nls/testkit";
import { pvAllocation } from "./claims.js";
import { asVersioned, pvClaim, pvRecord } from "./pv-record.js";

const Gi = 2 ** 30;

/** A PV as external-provisioner writes it for open-local's CSI driver. */
const provisionedPv = (): V1PersistentVolume => ({
  metadata: {
    name: "pv-1",
    uid: "u-1",
    resourceVersion: "42",
    annotations: { "pv.kubernetes.io/provisioned-by": "local.csi.aliyun.com" },
    finalizers: ["kubernetes.io/pv-protection"],
  },
  spec: {
    capacity: { storage: "10Gi" },
    accessModes: ["ReadWriteOnce"],
    storageClassName: "lvm",
    claimRef: { kind: "PersistentVolumeClaim", namespace: "ns", name: "c", uid: "c-1", resourceVersion: "7" },
    csi: {
      driver: "local.csi.aliyun.com",
      volumeHandle: "disk-c-1",
      volumeAttributes: { vgName: "pool-0", volumeType: "LVM", "csi.storage.k8s.io/pvc/name": "c" },
    },
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n1"] }] }],
      },
    },
  },
  status: { phase: "Bound" },
});

test("a provisioned PV's record holds its identity, node, space, claim and phase", (t) => {
  const full = provisionedPv();
  t.deepEqual(pvRecord(full), {
    name: "pv-1",
    uid: "u-1",
    resourceVersion: "42",
    local: true,
    node: "n1",
    allocation: pvAllocation(full),
    claimNamespace: "ns",
    claimName: "c",
    claimUid: "c-1",
    phase: "Bound",
  });
  t.deepEqual(pvRecord(full)?.allocation, { node: "n1", vg: "pool-0", bytes: 10 * Gi });
});

test("records of other drivers, unnamed PVs and claims without a namespace", (t) => {
  const other = pvRecord(pv("nfs-1", { node: "n1", size: "1Gi", driver: "nfs.csi.k8s.io" }));
  t.like(other, { name: "nfs-1", local: false, node: undefined, allocation: undefined });
  t.is(pvRecord({ metadata: {}, spec: {} }), undefined);

  const unclaimed = pvRecord(pv("pv-2", { node: "n1", size: "1Gi", vgName: "pool-0" }))!;
  t.is(pvClaim(unclaimed), undefined);
  t.like(unclaimed, { claimNamespace: undefined, claimName: undefined, claimUid: undefined });

  const full = provisionedPv();
  full.spec!.claimRef = { name: "c", uid: "c-1" };
  const record = pvRecord(full)!;
  t.is(pvClaim(record), "default/c", "a claimRef without a namespace names the default namespace");
  t.is(record.claimNamespace, undefined, "as written, for the metrics' pvc_ns label");
});

test("a record compares by uid and resourceVersion like the object it came from", (t) => {
  const record = pvRecord(provisionedPv())!;
  t.deepEqual(asVersioned(record)?.metadata, record);
  t.is(asVersioned(undefined), undefined);
});
