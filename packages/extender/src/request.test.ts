import test from "ava";
import { ClusterStore } from "./cache/store.js";
import { Gi, pod, pv, pvc, storageClass } from "@nls/testkit";
import { isPassThrough, localClassOf, podStorage, pvcSize, type PodStorage } from "./request.js";

function cluster(): ClusterStore {
  const s = new ClusterStore();
  s.applyStorageClass(storageClass("lvm", { volumeType: "LVM" }));
  s.applyStorageClass(storageClass("lvm-pool0", { volumeType: "LVM", vgName: "pool-0" }));
  s.applyStorageClass(storageClass("ssd", { volumeType: "Device", mediaType: "ssd" }));
  s.applyStorageClass(storageClass("mp", { volumeType: "MountPoint", mediaType: "hdd" }));
  s.applyStorageClass(storageClass("weird", { volumeType: "Tape" }));
  s.applyStorageClass(storageClass("ebs", {}, "ebs.csi.aws.com"));
  return s;
}

test("pods without PVCs, with PVCs of other classes or of a missing class pass through", (t) => {
  const s = cluster();
  s.applyPvc(pvc("ns", "other", { className: "ebs", size: "1Gi" }));
  s.applyPvc(pvc("ns", "orphan", { className: "deleted-class", size: "1Gi" }));
  s.applyPvc(pvc("ns", "no-class", { size: "1Gi" }));
  for (const claims of [[], ["other"], ["orphan"], ["no-class"]]) {
    const st = podStorage(pod("ns", "p", claims), s);
    t.true(isPassThrough(st), `claims ${claims.join(",")}`);
  }
});

/** A pod with one generic ephemeral volume named `scratch` whose template asks for `className`. */
const ephemeralPod = (className: string | undefined) => {
  const p = pod("ns", "web-0", []);
  p.spec!.volumes = [
    {
      name: "scratch",
      ephemeral: {
        volumeClaimTemplate: {
          spec: { storageClassName: className, resources: { requests: { storage: "500Gi" } } },
        },
      },
    },
  ];
  return p;
};

test("generic ephemeral volumes are the pod's PVCs <pod>-<volume>; claims not cached yet block the pod", (t) => {
  const rows: Array<{ what: string; cached?: string; template?: string; expect: Partial<PodStorage> }> = [
    {
      what: "ephemeral, its PVC cached",
      cached: "lvm",
      template: "lvm",
      expect: { requests: [{ kind: "lvm", claim: "ns/web-0-scratch", bytes: 500 * Gi, vgName: undefined }] },
    },
    {
      what: "ephemeral of a local class, PVC not cached yet",
      template: "lvm",
      expect: { requests: [], unseen: ["pvc ns/web-0-scratch is not in the extender's cache yet; retrying"] },
    },
    {
      what: "ephemeral without a class (the default class could be ours), PVC not cached yet",
      expect: { unseen: ["pvc ns/web-0-scratch is not in the extender's cache yet; retrying"] },
    },
    { what: "ephemeral of another provisioner's class, PVC not cached yet", template: "ebs", expect: { unseen: [] } },
    {
      what: "ephemeral, its PVC cached, of another provisioner",
      cached: "ebs",
      template: "ebs",
      expect: { requests: [] },
    },
  ];
  for (const row of rows) {
    const s = cluster();
    if (row.cached) s.applyPvc(pvc("ns", "web-0-scratch", { className: row.cached, size: "500Gi" }));
    const st = podStorage(ephemeralPod(row.template), s);
    for (const [k, v] of Object.entries(row.expect)) t.deepEqual(st[k as keyof PodStorage], v, `${row.what}: ${k}`);
  }
  const s = cluster();
  const missing = podStorage(pod("ns", "p", ["not-in-cache"]), s);
  t.deepEqual(missing.unseen, ["pvc ns/not-in-cache is not in the extender's cache yet; retrying"]);
  t.false(isPassThrough(missing));
});

test("unbound local PVCs become requests, largest first, with class parameters", (t) => {
  const s = cluster();
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "10Gi" }));
  s.applyPvc(pvc("ns", "b", { className: "lvm-pool0", size: "30Gi" }));
  s.applyPvc(pvc("ns", "c", { className: "ssd", size: "20Gi" }));
  s.applyPvc(pvc("ns", "d", { className: "mp", size: "15Gi" }));
  const st = podStorage(pod("ns", "p", ["a", "b", "c", "a", "d"]), s);
  t.deepEqual(st.requests, [
    { kind: "lvm", claim: "ns/b", bytes: 30 * Gi, vgName: "pool-0" },
    { kind: "device", claim: "ns/c", bytes: 20 * Gi, mediaType: "ssd" },
    { kind: "mountpoint", claim: "ns/d", bytes: 15 * Gi, mediaType: "hdd" },
    { kind: "lvm", claim: "ns/a", bytes: 10 * Gi, vgName: undefined },
  ]);
  t.deepEqual(st.claims, ["ns/a", "ns/b", "ns/c", "ns/d"]);
  t.false(isPassThrough(st));
});

test("a PVC bound to a local PV pins the pod to the PV's node; a non-local PV does not", (t) => {
  const s = cluster();
  s.applyPv(pv("pv-1", { node: "n7", size: "5Gi", vgName: "pool-0", claim: { namespace: "ns", name: "a" } }));
  s.applyPv(pv("pv-2", { node: "n8", size: "5Gi", driver: "ebs.csi.aws.com", claim: { namespace: "ns", name: "b" } }));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "5Gi", volumeName: "pv-1" }));
  s.applyPvc(pvc("ns", "b", { className: "ebs", size: "5Gi", volumeName: "pv-2" }));
  const st = podStorage(pod("ns", "p", ["a", "b"]), s);
  t.deepEqual([...st.pins.keys()], ["n7"]);
  t.deepEqual(st.requests, []);
});

test("a PVC with selected-node pins without asking for space again", (t) => {
  const s = cluster();
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "5Gi", selectedNode: "n3" }));
  const st = podStorage(pod("ns", "p", ["a"]), s);
  t.deepEqual([...st.pins.keys()], ["n3"]);
  t.deepEqual(st.requests, []);
});

test("unknown volume types and bad sizes are reported, not ignored", (t) => {
  const s = cluster();
  s.applyPvc(pvc("ns", "w", { className: "weird", size: "1Gi" }));
  s.applyPvc(pvc("ns", "bad", { className: "lvm", size: "lots" }));
  s.applyPvc(pvc("ns", "none", { className: "lvm" }));
  const st = podStorage(pod("ns", "p", ["w", "bad", "none"]), s);
  t.is(st.invalid.length, 3);
  t.is(st.invalid[0], 'pvc ns/w: unknown volumeType "Tape" in class weird');
  t.regex(st.invalid[1]!, /^pvc ns\/bad: invalid quantity "lots"/);
  t.is(st.invalid[2], "pvc ns/none: no storage request");
});

test("pvcSize falls back to limits and refuses zero", (t) => {
  const p = pvc("ns", "a", { className: "lvm" });
  p.spec!.resources = { limits: { storage: "2Gi" } };
  t.deepEqual(pvcSize(p), { ok: true, bytes: 2 * Gi });
  p.spec!.resources = { requests: { storage: "0" } };
  t.false(pvcSize(p).ok);
});

test("localClassOf defaults volumeType to LVM and ignores other provisioners", (t) => {
  t.deepEqual(localClassOf(storageClass("x", {})), {
    name: "x",
    volumeType: "LVM",
    vgName: undefined,
    mediaType: undefined,
  });
  t.is(localClassOf(storageClass("y", { volumeType: "LVM" }, "other")), undefined);
});
