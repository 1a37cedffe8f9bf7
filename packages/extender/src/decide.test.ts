import test from "ava";
import { filterNodes, holdReservations, hostPriorities, keepChoiceOnly, scoreNodes } from "./decide.js";
import { Gi, lease, nls, pod, pv, pvc } from "@nls/testkit";
import { clusterWith } from "../testing/cluster.js";
import { podStorage } from "./request.js";

const now = Date.parse("2026-03-01T12:00:00Z");
const TTL = 60_000;

test("nodes without NLS, with an expired or missing lease fail with that reason", (t) => {
  const s = clusterWith(["ok", "stale"], now);
  s.applyLease(lease("stale", new Date(now - 100_000)));
  s.applyNls(nls("nolease", { vgs: [{ name: "pool-0", allocatable: 100 * Gi }] }));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "10Gi" }));
  const out = filterNodes(podStorage(pod("ns", "p", ["a"]), s), ["ok", "stale", "nolease", "ghost"], s, "binpack", now);
  t.deepEqual(out.passing, ["ok"]);
  t.deepEqual(out.failed, {});
  t.regex(out.details.stale!, /^nls agent lease nls-node-lease\/nls-agent-stale expired 60s ago/);
  t.regex(out.details.nolease!, /^no nls agent lease nls-node-lease\/nls-agent-nolease/);
  t.regex(out.details.ghost!, /^no NodeLocalStorage for this node/);
  // What kube-scheduler shows: one text per class, so its event groups them.
  t.deepEqual(out.unresolvable, {
    stale: "local storage agent not reporting",
    nolease: "local storage agent not reporting",
    ghost: "no local storage reported (no NodeLocalStorage)",
  });
  t.deepEqual(out.failures, { "no-nls": 1, agent: 2, pinned: 0, invalid: 0, unseen: 0, capacity: 0 });
});

test("--agent-lease=optional trusts a node without a lease but not an expired one", (t) => {
  const s = clusterWith(["stale"], now, { leaseMode: "optional" });
  s.applyLease(lease("stale", new Date(now - 100_000)));
  s.applyNls(nls("nolease", { vgs: [{ name: "pool-0", allocatable: 100 * Gi }] }));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "10Gi" }));
  const out = filterNodes(podStorage(pod("ns", "p", ["a"]), s), ["stale", "nolease"], s, "binpack", now);
  t.deepEqual(out.passing, ["nolease"]);
});

test("a bound PVC pins the pod even if the agent is down; other nodes get the reason", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  s.applyPv(pv("pv-a", { node: "n2", size: "5Gi", vgName: "pool-0", claim: { namespace: "ns", name: "a" } }));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "5Gi", volumeName: "pv-a" }));
  s.applyLease(lease("n2", new Date(now - 100_000)));
  const out = filterNodes(podStorage(pod("ns", "p", ["a"]), s), ["n1", "n2"], s, "binpack", now);
  t.deepEqual(out.passing, ["n2"]);
  t.is(out.unresolvable.n1, "pvc ns/a is bound to local volume pv-a on node n2");
  t.is(out.details.n1, out.unresolvable.n1, "the same on every node: shown as it is");
});

test("pinned plus a new volume: the new volume must fit on the pinned node", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  s.applyPv(pv("pv-a", { node: "n2", size: "90Gi", vgName: "pool-0", claim: { namespace: "ns", name: "a" } }));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "90Gi", volumeName: "pv-a" }));
  s.applyPvc(pvc("ns", "b", { className: "lvm-pool0", size: "30Gi" }));
  const out = filterNodes(podStorage(pod("ns", "p", ["a", "b"]), s), ["n1", "n2"], s, "binpack", now);
  t.deepEqual(out.passing, []);
  t.is(out.details.n2, "vg pool-0: need 30Gi, free 10Gi of 100Gi");
  t.is(out.unresolvable.n2, "insufficient local storage (LVM)");
});

test("invalid requests fail every node with the precise reason", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "-3Gi" }));
  const out = filterNodes(podStorage(pod("ns", "p", ["a"]), s), ["n1", "n2"], s, "binpack", now);
  t.deepEqual(out.passing, []);
  t.regex(out.unresolvable.n1!, /^pvc ns\/a: invalid quantity "-3Gi": must not be negative/);
  t.is(out.unresolvable.n1, out.unresolvable.n2);
});

test("a tentative reservation keeps a second pod off the same space until its TTL", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyPvc(pvc("ns", "a", { className: "lvm-pool0", size: "70Gi" }));
  s.applyPvc(pvc("ns", "b", { className: "lvm-pool0", size: "70Gi" }));
  const first = podStorage(pod("ns", "p1", ["a"]), s);
  const out1 = filterNodes(first, ["n1"], s, "binpack", now);
  t.deepEqual(out1.passing, ["n1"]);
  t.is(holdReservations(s.ledger, pod("ns", "p1", ["a"]), first, out1.choice!.placements, TTL, now), 1);

  const second = podStorage(pod("ns", "p2", ["b"]), s);
  const out2 = filterNodes(second, ["n1"], s, "binpack", now + 1);
  t.deepEqual(out2.passing, []);
  t.is(out2.details.n1, "vg pool-0: need 70Gi, free 30Gi of 100Gi");

  // The first pod, retried, is not blocked by its own reservation.
  t.deepEqual(filterNodes(first, ["n1"], s, "binpack", now + 2).passing, ["n1"]);

  t.is(s.ledger.expire(now + TTL), 1);
  s.applyLease(lease("n1", new Date(now + TTL)));
  t.deepEqual(filterNodes(second, ["n1"], s, "binpack", now + TTL).passing, ["n1"]);
  t.is(s.ledger.released.ttl, 1);
});

test("prioritize scores the node the strategy chooses 10 and every other 0; never fails unknown nodes", (t) => {
  const s = clusterWith(["empty", "half"], now);
  s.applyPv(pv("pv-x", { node: "half", size: "60Gi", vgName: "pool-0" }));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "15Gi" }));
  const st = podStorage(pod("ns", "p", ["a"]), s);
  const binpack = scoreNodes(st, ["empty", "half", "ghost"], s, "binpack", now);
  // empty: 15/150 used after; half: 75/150
  t.deepEqual([...binpack.scores], [0, 10, 0]);
  // The reply lists only what scores above 0: kube-scheduler adds nothing to a node left out.
  t.deepEqual(hostPriorities(["empty", "half", "ghost"], binpack.scores), [{ Host: "half", Score: 10 }]);
  t.deepEqual(binpack.choice, { node: "half", placements: [{ node: "half", vg: "pool-0", bytes: 15 * Gi }] });
  const spread = scoreNodes(st, ["empty", "half"], s, "spread", now);
  t.deepEqual([...spread.scores], [10, 0]);
  t.is(spread.choice!.node, "empty");
});

test("ties (what a rounded score makes common) go to the same node in filter and prioritize: the smallest name", (t) => {
  const names = ["n3", "n1", "n2"];
  const s = clusterWith(names, now);
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "30Gi" }));
  const st = podStorage(pod("ns", "p", ["a"]), s);
  for (const strategy of ["binpack", "spread"] as const) {
    t.is(filterNodes(st, names, s, strategy, now).choice!.node, "n1", strategy);
    t.deepEqual([...scoreNodes(st, names, s, strategy, now).scores], [0, 10, 0], strategy);
  }
  // 31Gi and 34Gi used of 150Gi would both score 2 rounded; binpack takes the fuller one.
  s.applyPv(pv("pv-1", { node: "n1", size: "1Gi", vgName: "pool-0" }));
  s.applyPv(pv("pv-2", { node: "n2", size: "4Gi", vgName: "pool-0" }));
  t.is(filterNodes(st, names, s, "binpack", now).choice!.node, "n2");
  t.is(filterNodes(st, names, s, "spread", now).choice!.node, "n3");
});

test("--placement=decide: only the chosen node passes; the others that fit get no entry", (t) => {
  const s = clusterWith(["n1", "n2", "n3"], now);
  s.applyPv(pv("pv-3", { node: "n3", size: "100Gi", vgName: "pool-0" }));
  s.applyPv(pv("pv-3b", { node: "n3", size: "50Gi", vgName: "pool-1" }));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "30Gi" }));
  const out = filterNodes(podStorage(pod("ns", "p", ["a"]), s), ["n1", "n2", "n3"], s, "binpack", now);
  t.deepEqual(out.passing, ["n1", "n2"]);
  keepChoiceOnly(out);
  t.deepEqual(out.passing, ["n1"]);
  // n2 could take the pod: it is neither passing nor failed (kube-scheduler reads no reasons while a
  // node is left), so the answer carries no entry per fitting node.
  t.deepEqual(out.unresolvable, { n3: "insufficient local storage (LVM)" });
  t.false("n2" in out.details);
  t.is(out.details.n3, "vg pool-0: need 30Gi, free 0 of 100Gi; vg pool-1: need 30Gi, free 0 of 50Gi");
  t.is(out.failures.capacity, 1, "the node that could take the pod is not counted as failed");
});

test("prioritize gives equal scores to pods without local volumes", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  const out = scoreNodes(podStorage(pod("ns", "p", []), s), ["n1", "n2"], s, "binpack", now);
  t.deepEqual([...out.scores], [0, 0]);
  t.deepEqual(hostPriorities(["n1", "n2"], out.scores), []);
  t.is(out.choice, undefined);
});

test("filter's preferences for the passing nodes, reused by prioritize, pick the node a fresh prioritize picks", (t) => {
  const s = clusterWith(["a", "b", "c", "d"], now);
  s.applyPv(pv("pv-b", { node: "b", size: "60Gi", vgName: "pool-0" }));
  s.applyPv(pv("pv-c", { node: "c", size: "95Gi", vgName: "pool-0" }));
  s.applyPv(pv("pv-c2", { node: "c", size: "45Gi", vgName: "pool-1" }));
  s.applyPvc(pvc("ns", "x", { className: "lvm", size: "20Gi" }));
  s.applyPvc(pvc("ns", "y", { className: "lvm", size: "10Gi" }));
  const st = podStorage(pod("ns", "p", ["x", "y"]), s);
  for (const strategy of ["binpack", "spread"] as const) {
    const f = filterNodes(st, ["a", "b", "c", "d"], s, strategy, now);
    t.deepEqual(f.passing, ["a", "b", "d"]);
    const fresh = scoreNodes(st, f.passing, s, strategy, now);
    t.is(fresh.choice!.node, f.choice!.node, strategy);
    const reused = scoreNodes(st, f.passing, s, strategy, now, f.passingPreferences);
    t.deepEqual([...reused.scores], [...fresh.scores]);
    t.deepEqual(reused.choice, fresh.choice);
  }
});

test("a 500Gi generic ephemeral volume fails a 100Gi node; a claim not cached yet fails every node, retryably", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  const p = pod("ns", "web-0", []);
  p.spec!.volumes = [
    {
      name: "scratch",
      ephemeral: { volumeClaimTemplate: { spec: { storageClassName: "lvm" } } },
    },
  ];
  const unseen = filterNodes(podStorage(p, s), ["n1", "n2"], s, "binpack", now);
  t.deepEqual(unseen.passing, []);
  t.is(unseen.unresolvable.n1, "pvc ns/web-0-scratch is not in the extender's cache yet; retrying");
  t.is(unseen.failures.unseen, 2);
  s.applyPvc(pvc("ns", "web-0-scratch", { className: "lvm", size: "500Gi" }));
  const big = filterNodes(podStorage(p, s), ["n1", "n2"], s, "binpack", now);
  t.deepEqual(big.passing, []);
  t.is(big.unresolvable.n1, "insufficient local storage (LVM)");
  t.is(big.details.n1, "vg pool-0: need 500Gi, free 100Gi of 100Gi; vg pool-1: need 500Gi, free 50Gi of 50Gi");
});

test("volumes that fit byte by byte but not in whole extents are refused, as lvcreate would", (t) => {
  const extent = 4 * 2 ** 20;
  const s = clusterWith([], now);
  s.applyNls(nls("n1", { vgs: [{ name: "pool-0", allocatable: 75 * extent }] }));
  s.applyLease(lease("n1", new Date(now)));
  // 37.25 extents each: two fit in 74.5 extents of bytes, but LVM gives each 38 extents.
  const size = String(37.25 * extent);
  s.applyPv(pv("pv-1", { node: "n1", size, vgName: "pool-0" }));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size }));
  const out = filterNodes(podStorage(pod("ns", "p", ["a"]), s), ["n1"], s, "binpack", now);
  t.deepEqual(out.passing, []);
  t.is(out.details.n1, "vg pool-0: need 152Mi, free 148Mi of 300Mi");
});
