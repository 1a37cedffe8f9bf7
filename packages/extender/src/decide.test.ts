import test from "ava";
import { filterNodes, holdReservations, hostPriorities, scoreNodes } from "./decide.js";
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
  t.deepEqual(out.failures, { "no-nls": 1, agent: 2, pinned: 0, invalid: 0, capacity: 0 });
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
  t.is(holdReservations(s.ledger, pod("ns", "p1", ["a"]), first, out1.onlyPlacement!, TTL, now), 1);

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

test("prioritize scores by strategy, reserves on the top node, and never fails unknown nodes", (t) => {
  const s = clusterWith(["empty", "half"], now);
  s.applyPv(pv("pv-x", { node: "half", size: "60Gi", vgName: "pool-0" }));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "15Gi" }));
  const st = podStorage(pod("ns", "p", ["a"]), s);
  const binpack = scoreNodes(st, ["empty", "half", "ghost"], s, "binpack", now);
  // empty: 15/150 → 1; half: 75/150 → 5
  t.deepEqual(hostPriorities(["empty", "half", "ghost"], binpack.scores), [
    { Host: "empty", Score: 1 },
    { Host: "half", Score: 5 },
    { Host: "ghost", Score: 0 },
  ]);
  t.is(binpack.best![0]!.node, "half");
  const spread = scoreNodes(st, ["empty", "half"], s, "spread", now);
  t.deepEqual([...spread.scores], [9, 5]);
  t.is(spread.best![0]!.node, "empty");
});

test("prioritize gives equal scores to pods without local volumes", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  const out = scoreNodes(podStorage(pod("ns", "p", []), s), ["n1", "n2"], s, "binpack", now);
  t.deepEqual(hostPriorities(["n1", "n2"], out.scores), [
    { Host: "n1", Score: 0 },
    { Host: "n2", Score: 0 },
  ]);
  t.is(out.best, undefined);
});

test("filter's scores for the passing nodes are what prioritize computes, and reusing them picks the same best node", (t) => {
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
    t.deepEqual(f.passingScores, [...fresh.scores], strategy);
    const reused = scoreNodes(st, f.passing, s, strategy, now, f.passingScores);
    t.deepEqual([...reused.scores], [...fresh.scores]);
    t.deepEqual(reused.best, fresh.best);
  }
});
