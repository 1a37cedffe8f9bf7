import test from "ava";
import type { V1Pod } from "@kubernetes/client-node";
import { Gi, lease, nls, pv, pvc, storageClass } from "@nls/testkit";
import { node, SETTINGS, stateOf } from "../../testing/state.js";
import { addReservations, storeFor, type ClusterState } from "../cluster/state.js";
import { candidateNodes, explain, nodeArithmetic } from "./explain.js";

const now = Date.parse("2026-03-01T12:00:00Z");
const fresh = new Date(now - 5_000);

const podOf = (name: string, claims: string[], nodeName?: string): V1Pod => ({
  metadata: { namespace: "default", name, uid: `uid-${name}` },
  spec: {
    containers: [{ name: "c", image: "busybox" }],
    volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
    ...(nodeName ? { nodeName } : {}),
  },
  status: { phase: nodeName ? "Running" : "Pending" },
});

/**
 * n1 fits (pool-0 100Gi, fast-0 50Gi); n2 is nearly full (a 90Gi PV, fast-0 20Gi); n3's agent is down; n4 has no
 * NodeLocalStorage; n5 has no fast-0.
 */
function cluster(): ClusterState {
  const both = [
    { name: "pool-0", allocatable: 100 * Gi },
    { name: "fast-0", allocatable: 50 * Gi },
  ];
  return stateOf(
    {
      nodes: ["n1", "n2", "n3", "n4", "n5"].map(node),
      nls: [
        nls("n1", { vgs: both, devices: [{ name: "/dev/sdb", total: 100 * Gi }] }),
        nls("n2", {
          vgs: [
            { name: "pool-0", allocatable: 100 * Gi },
            { name: "fast-0", allocatable: 20 * Gi },
          ],
        }),
        nls("n3", { vgs: both }),
        nls("n5", { vgs: [{ name: "pool-0", allocatable: 100 * Gi }] }),
      ],
      storageClasses: [
        storageClass("lvm", { volumeType: "LVM" }),
        storageClass("fast", { volumeType: "LVM", vgName: "fast-0" }),
        storageClass("ssd", { volumeType: "Device", mediaType: "ssd" }),
        storageClass("tape", { volumeType: "Tape" }),
        storageClass("mp", { volumeType: "MountPoint", mediaType: "hdd" }),
        storageClass("ebs", {}, "ebs.csi.aws.com"),
      ],
      pvs: [
        pv("pv-full", { node: "n2", size: "90Gi", vgName: "pool-0", claim: { namespace: "other", name: "full" } }),
        pv("pv-old", { node: "n5", size: "10Gi", vgName: "pool-0", claim: { namespace: "default", name: "old" } }),
        pv("pv-dev", { node: "n1", size: "100Gi", device: "/dev/sdb", claim: { namespace: "other", name: "dev" } }),
      ],
      pvcs: [
        pvc("other", "full", { className: "lvm", size: "90Gi", volumeName: "pv-full" }),
        pvc("other", "dev", { className: "ssd", size: "100Gi", volumeName: "pv-dev" }),
        pvc("default", "data", { className: "lvm", size: "30Gi" }),
        pvc("default", "logs", { className: "fast", size: "5Gi" }),
        pvc("default", "old", { className: "lvm", size: "10Gi", volumeName: "pv-old" }),
        pvc("default", "tape", { className: "tape", size: "1Gi" }),
        pvc("default", "mount", { className: "mp", size: "1Gi" }),
        pvc("default", "cloud", { className: "ebs", size: "1Gi" }),
      ],
    },
    [lease("n1", fresh), lease("n2", fresh), lease("n3", new Date(now - 200_000)), lease("n5", fresh)],
  );
}

test("a pending pod: each node's verdict is the extender's filter answer, short reason and numbers", (t) => {
  const state = cluster();
  const store = storeFor(state, SETTINGS);
  const e = explain(podOf("web", ["data", "logs", "cloud"]), store, candidateNodes(state), SETTINGS, now);
  t.is(e.pod, "default/web");
  t.false(e.passThrough);
  t.deepEqual(e.claims, [
    { claim: "default/data", storageClass: "lvm", role: "new", bytes: 30 * Gi, wants: { volumeType: "LVM" } },
    {
      claim: "default/logs",
      storageClass: "fast",
      role: "new",
      bytes: 5 * Gi,
      wants: { volumeType: "LVM", vg: "fast-0" },
    },
    {
      claim: "default/cloud",
      storageClass: "ebs",
      role: "ignored",
      note: "StorageClass ebs is not local.csi.aliyun.com's or does not exist: not nls', never blocks the pod",
    },
  ]);
  t.deepEqual(
    e.nodes.map((n) => [n.node, n.fits, n.reason, n.detail]),
    [
      ["n1", true, "", ""],
      [
        "n2",
        false,
        "insufficient local storage (LVM)",
        "vg fast-0: need 30Gi, free 20Gi of 20Gi; vg pool-0: need 30Gi, free 10Gi of 100Gi",
      ],
      [
        "n3",
        false,
        "local storage agent not reporting",
        "nls agent lease nls-node-lease/nls-agent-n3 expired 160s ago (agent down?)",
      ],
      [
        "n4",
        false,
        "no local storage reported (no NodeLocalStorage)",
        "no NodeLocalStorage for this node (is the nls agent running here?)",
      ],
      ["n5", false, "volume group fast-0 not available", "vg fast-0 is not selected on this node (selected: pool-0)"],
    ],
  );
  t.deepEqual(e.reasons, [
    { reason: "insufficient local storage (LVM)", nodes: 1 },
    { reason: "local storage agent not reporting", nodes: 1 },
    { reason: "no local storage reported (no NodeLocalStorage)", nodes: 1 },
    { reason: "volume group fast-0 not available", nodes: 1 },
  ]);
  t.is(e.choice, "n1");
  const n1 = e.nodes[0]!;
  // binpack: the tightest VG that fits, largest volume first
  t.deepEqual(n1.placements, [
    { claim: "default/data", bytes: 30 * Gi, vg: "fast-0" },
    { claim: "default/logs", bytes: 5 * Gi, vg: "fast-0" },
  ]);
  t.deepEqual(n1.after, { used: 35 * Gi, capacity: 150 * Gi });
  t.is(n1.score, 10, "the node the volumes are held on");
});

test("pins, invalid volumes and missing PVCs are named per claim", (t) => {
  const state = cluster();
  const store = storeFor(state, SETTINGS);
  const pinned = explain(podOf("db", ["old", "data"]), store, candidateNodes(state), SETTINGS, now);
  t.deepEqual(pinned.claims[0], {
    claim: "default/old",
    storageClass: "lvm",
    role: "bound",
    note: "pvc default/old is bound to local volume pv-old on node n5",
  });
  t.deepEqual(
    pinned.nodes.filter((n) => n.fits).map((n) => n.node),
    ["n5"],
  );
  t.is(pinned.nodes[0]!.reason, "pvc default/old is bound to local volume pv-old on node n5");

  const invalid = explain(podOf("m", ["tape", "nope", "mount"]), store, candidateNodes(state), SETTINGS, now);
  t.is(invalid.claims[0]!.role, "invalid");
  t.is(invalid.claims[0]!.note, 'pvc default/tape: unknown volumeType "Tape" in class tape');
  t.deepEqual(invalid.claims[2]!.wants, { volumeType: "MountPoint", mediaType: "hdd" });
  t.deepEqual(invalid.claims[1], {
    claim: "default/nope",
    role: "ignored",
    note: "PVC not found (the extender ignores it; kube-scheduler waits for it)",
  });
  t.deepEqual(
    invalid.reasons.map((r) => r.nodes),
    [5],
  );
});

test("a pod without local volumes passes every node; a bound pod is not evaluated", (t) => {
  const state = cluster();
  const store = storeFor(state, SETTINGS);
  const plain = explain(podOf("plain", ["cloud"]), store, candidateNodes(state), SETTINGS, now);
  t.true(plain.passThrough);
  t.true(plain.nodes.every((n) => n.fits && n.score === undefined));
  t.is(plain.choice, undefined);
  const bound = explain(podOf("ran", ["data"], "n1"), store, candidateNodes(state), SETTINGS, now);
  t.is(bound.boundTo, "n1");
  t.deepEqual(bound.nodes, []);
});

test("the extender's reservations count: another pod's holds space, the pod's own does not block it", (t) => {
  const state = cluster();
  const pod = podOf("web", ["data"]);
  const others = storeFor(state, SETTINGS);
  addReservations(others, {
    nodes: {},
    claims: {
      "default/a": { source: "tentative", node: "n1", vg: "pool-0", bytes: 80 * Gi },
      "default/b": { source: "tentative", node: "n1", vg: "fast-0", bytes: 40 * Gi },
    },
  });
  t.is(
    explain(pod, others, ["n1"], SETTINGS, now).nodes[0]!.detail,
    "vg fast-0: need 30Gi, free 10Gi of 50Gi; vg pool-0: need 30Gi, free 20Gi of 100Gi",
  );
  const own = storeFor(state, SETTINGS);
  addReservations(own, {
    nodes: {},
    claims: {
      "default/a": { source: "tentative", node: "n1", vg: "pool-0", bytes: 70 * Gi },
      "default/b": { source: "tentative", node: "n1", vg: "fast-0", bytes: 50 * Gi },
      "default/data": { source: "tentative", node: "n1", vg: "pool-0", bytes: 30 * Gi },
    },
  });
  const n1 = explain(pod, own, ["n1"], SETTINGS, now).nodes[0]!;
  t.true(n1.fits, "its own reservation is credited back");
  t.deepEqual(n1.placements, [{ claim: "default/data", bytes: 30 * Gi, vg: "pool-0" }]);
});

test("--node: every VG with who holds what, the devices, the agent and the verdict", (t) => {
  const state = cluster();
  const store = storeFor(state, SETTINGS);
  const e = explain(podOf("web", ["data"]), store, ["n2"], SETTINGS, now);
  const a = nodeArithmetic("n2", state, store, SETTINGS, now, e.nodes[0]);
  t.deepEqual(a.vgs, [
    { name: "fast-0", allocatable: 20 * Gi, committed: 0, free: 20 * Gi, holders: [] },
    {
      name: "pool-0",
      allocatable: 100 * Gi,
      committed: 90 * Gi,
      free: 10 * Gi,
      holders: [{ claim: "pv:pv-full", source: "pv", bytes: 90 * Gi }],
    },
  ]);
  t.deepEqual(a.agent, { state: "ok", renewedSecondsAgo: 5, lease: "nls-node-lease/nls-agent-n2" });
  t.is(a.verdict?.reason, "insufficient local storage (LVM)");
  const n1 = nodeArithmetic("n1", state, store, SETTINGS, now, undefined);
  t.deepEqual(n1.devices, [{ name: "/dev/sdb", mediaType: "ssd", total: 100 * Gi, heldBy: "pv:pv-dev" }]);
  t.false(nodeArithmetic("n4", state, store, SETTINGS, now, undefined).nls);
});
