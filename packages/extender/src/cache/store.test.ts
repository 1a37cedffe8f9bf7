import test from "ava";
import { ANNOTATION_NLS_ALLOCATION } from "@nls/api";
import { allocationRecord } from "../claims.js";
import { filterNodes, holdReservations } from "../decide.js";
import { Gi, lease, nls, pod, pv, pvc, storageClass } from "@nls/testkit";
import { clusterWith } from "../../testing/cluster.js";
import { podStorage } from "../request.js";
import { ClusterStore } from "./store.js";
import { overcommittedVgs } from "../overcommit.js";
import { nodeState } from "../placement.js";

const now = Date.parse("2026-03-01T12:00:00Z");
const used = (s: ClusterStore, node: string, vg: string) => s.ledger.usage(node)?.vg.get(vg) ?? 0;

/** Filter + reserve for a pod whose only node is `node`, as the filter route does. */
function scheduleOn(s: ClusterStore, node: string, name: string, claims: string[]) {
  const p = pod("ns", name, claims);
  const st = podStorage(p, s);
  const out = filterNodes(st, [node], s, "binpack", now);
  if (!out.choice) throw new Error(`${name} did not fit: ${JSON.stringify(out.unresolvable)}`);
  holdReservations(s.ledger, p, st, out.choice.placements, 60_000, now);
  return out.choice.placements;
}

test("the selected-node annotation replaces the reservation on the same VG, counted once", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "40Gi" }));
  const [placed] = scheduleOn(s, "n1", "p", ["a"]);
  t.is(placed!.vg, "pool-1");
  t.is(used(s, "n1", "pool-1"), 40 * Gi);
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "40Gi", selectedNode: "n1" }));
  t.is(used(s, "n1", "pool-1"), 40 * Gi);
  t.is(s.ledger.liveReservations, 0);
  t.is(s.ledger.released["selected-node"], 1);
  t.is(s.ledger.effective("ns/a")?.kind, "selected");
});

test("a selected-node on another node moves the space there", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "40Gi" }));
  scheduleOn(s, "n1", "p", ["a"]);
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "40Gi", selectedNode: "n2" }));
  t.is(used(s, "n1", "pool-1"), 0);
  t.is(used(s, "n2", "pool-1"), 40 * Gi);
});

test("the PV replaces every PVC-level commitment, counted once", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "40Gi" }));
  scheduleOn(s, "n1", "p", ["a"]);
  // PV before any PVC update (informers are not ordered across kinds).
  s.applyPv(pv("pv-a", { node: "n1", size: "40Gi", vgName: "pool-1", claim: { namespace: "ns", name: "a" } }));
  t.is(used(s, "n1", "pool-1"), 40 * Gi);
  t.is(s.ledger.released.pv, 1);
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "40Gi", selectedNode: "n1", volumeName: "pv-a" }));
  t.is(used(s, "n1", "pool-1"), 40 * Gi);
  t.deepEqual(Object.keys(s.ledger.snapshot().claims), ["pv:pv-a"]);
  s.deletePvc("ns", "a");
  t.is(used(s, "n1", "pool-1"), 40 * Gi, "a released PV still holds its LV");
  s.deletePv("pv-a");
  t.is(s.ledger.usage("n1"), undefined);
});

test("a recreated PVC is not hidden by the old PV of the same name", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyPv(
    pv("pv-old", { node: "n1", size: "10Gi", vgName: "pool-0", claim: { namespace: "ns", name: "a", uid: "old" } }),
  );
  s.applyPvc(pvc("ns", "a", { className: "lvm-pool0", size: "20Gi", selectedNode: "n1", uid: "new" }));
  t.is(used(s, "n1", "pool-0"), 30 * Gi);
});

test("a StorageClass arriving after its PVC brings the PVC into the ledger", (t) => {
  const s = new ClusterStore();
  s.applyNls(nls("n1", { vgs: [{ name: "pool-0", allocatable: 100 * Gi }] }));
  s.applyPvc(pvc("ns", "a", { className: "late", size: "10Gi", selectedNode: "n1" }));
  t.is(s.ledger.usage("n1"), undefined);
  s.applyStorageClass(storageClass("late", { volumeType: "LVM" }));
  t.is(used(s, "n1", "pool-0"), 10 * Gi);
  s.deleteStorageClass("late");
  t.is(s.ledger.usage("n1"), undefined);
});

test("a selected-node PVC seen before its node's NLS is placed once the NLS arrives", (t) => {
  const s = new ClusterStore();
  s.applyStorageClass(storageClass("lvm", {}));
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "10Gi", selectedNode: "n1" }));
  t.is(s.ledger.usage("n1")?.unplaced, 10 * Gi);
  s.applyNls(nls("n1", { vgs: [{ name: "pool-0", allocatable: 100 * Gi }] }));
  t.deepEqual(s.ledger.snapshot().nodes, { n1: { vgs: { "pool-0": 10 * Gi }, devices: {}, unplaced: 0 } });
});

test("restart: a ledger rebuilt from the same API objects equals the ledger before", (t) => {
  const before = clusterWith(["n1", "n2"], now);
  // A provisioned volume, a device volume, and three PVCs in flight.
  const objects = {
    pvs: [
      pv("pv-a", { node: "n1", size: "30Gi", vgName: "pool-0", claim: { namespace: "ns", name: "a" } }),
      pv("pv-d", { node: "n2", size: "100Gi", device: "/dev/vdb", claim: { namespace: "ns", name: "d" } }),
      pv("pv-orphan", { node: "n2", size: "5Gi", vgName: "pool-1" }),
    ],
    pvcs: [
      pvc("ns", "a", { className: "lvm", size: "30Gi", volumeName: "pv-a", selectedNode: "n1" }),
      pvc("ns", "d", { className: "ssd", size: "80Gi", volumeName: "pv-d", selectedNode: "n2" }),
      pvc("ns", "b", { className: "lvm", size: "20Gi" }),
      pvc("ns", "c", { className: "lvm-pool0", size: "15Gi" }),
      pvc("ns", "e", { className: "lvm", size: "45Gi" }),
    ],
  };
  for (const o of objects.pvs) before.applyPv(o);
  for (const o of objects.pvcs) before.applyPvc(o);
  // b: filtered, selected, then reserved by the CSI driver (annotation written);
  // c: filtered then selected (class names the VG); e: filtered, selected, reserved on n2.
  scheduleOn(before, "n1", "pb", ["b"]);
  scheduleOn(before, "n2", "pc", ["c"]);
  scheduleOn(before, "n2", "pe", ["e"]);
  const b = pvc("ns", "b", { className: "lvm", size: "20Gi", selectedNode: "n1" });
  const c = pvc("ns", "c", { className: "lvm-pool0", size: "15Gi", selectedNode: "n2" });
  const e = pvc("ns", "e", { className: "lvm", size: "45Gi", selectedNode: "n2" });
  for (const o of [b, c, e]) before.applyPvc(o);
  for (const [o, key] of [
    [b, "ns/b"],
    [e, "ns/e"],
  ] as const) {
    // What the reserve route does: decide, then persist on the PVC (which the informer echoes back).
    const chosen = before.ledger.effective(key)!.allocation;
    before.ledger.set(key, "allocation", chosen);
    o.metadata!.annotations![ANNOTATION_NLS_ALLOCATION] = JSON.stringify(allocationRecord(chosen));
    before.applyPvc(o);
  }
  t.is(before.ledger.liveReservations, 0);

  const after = new ClusterStore();
  // A fresh process sees the objects in another order.
  for (const o of [e, c, b, ...objects.pvcs.slice(0, 2)]) after.applyPvc(o);
  for (const o of [...objects.pvs].reverse()) after.applyPv(o);
  after.applyStorageClass(storageClass("ssd", { volumeType: "Device", mediaType: "ssd" }));
  after.applyStorageClass(storageClass("lvm-pool0", { volumeType: "LVM", vgName: "pool-0" }));
  after.applyStorageClass(storageClass("lvm", { volumeType: "LVM" }));
  for (const n of ["n2", "n1"]) {
    after.applyNls(before.nlsObject(n)!);
    after.applyLease(lease(n, new Date(now)));
  }
  t.deepEqual(after.ledger.snapshot(), before.ledger.snapshot());
  t.is(
    used(after, "n1", "pool-0"),
    30 * Gi + (before.ledger.effective("ns/b")!.allocation.vg === "pool-0" ? 20 * Gi : 0),
  );
});

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}
const lvmRequest = (key: string, gi: number, vgName?: string) =>
  ({ kind: "lvm", claim: key, bytes: gi * Gi, vgName }) as const;
/** A store with one node `n1` holding the given VGs (sizes in Gi). */
function oneNode(vgs: Record<string, number>): ClusterStore {
  const s = new ClusterStore();
  s.applyStorageClass(storageClass("lvm", { volumeType: "LVM" }));
  s.applyStorageClass(storageClass("lvm-pool0", { volumeType: "LVM", vgName: "pool-0" }));
  s.applyNls(nls("n1", { vgs: Object.entries(vgs).map(([name, gi]) => ({ name, allocatable: gi * Gi })) }));
  s.applyLease(lease("n1", new Date(now)));
  return s;
}
const overcommitted = (s: ClusterStore, node: string) =>
  s
    .node(node)!
    .vgs.filter((vg) => used(s, node, vg.name) > vg.allocatable || (s.ledger.usage(node)?.unplaced ?? 0) > 0);

test("defect 0: the reserve route grants in arrival order against what is decided, not against forecasts", (t) => {
  const names = ["a", "b", "c", "d", "e"];
  for (const order of permutations(names).filter((_, i) => i % 7 === 0)) {
    // Five selected 30Gi claims on an empty 100Gi VG (kube-scheduler sent too many), plus another
    // pod's tentative reservation misplaced there: only the five's own arrival order decides.
    const s = oneNode({ "pool-0": 100 });
    for (const n of names) s.applyPvc(pvc("ns", n, { className: "lvm", size: "30Gi", selectedNode: "n1" }));
    s.applyPvc(pvc("ns", "x", { className: "lvm", size: "50Gi" }));
    s.hold(
      pod("ns", "px", ["x"]),
      podStorage(pod("ns", "px", ["x"]), s),
      [{ node: "n1", vg: "pool-0", bytes: 50 * Gi }],
      60_000,
      now,
    );
    const results = order.map((n) => s.grant(`ns/${n}`, "n1", lvmRequest(`ns/${n}`, 30)));
    t.deepEqual(
      results.map((r) => r.ok),
      [true, true, true, false, false],
      order.join(""),
    );
    const refused = results[3]!;
    const holders = order
      .slice(0, 3)
      .sort()
      .map((n) => `allocated ns/${n} 30Gi (pool-0)`)
      .join(", ");
    t.deepEqual(refused, { ok: false, reason: `vg pool-0: need 30Gi, free 10Gi of 100Gi (held by ${holders})` });
    t.deepEqual([...s.ledger.firmUsage("n1").vg], [["pool-0", 90 * Gi]]);
  }
});

test("defect 0: a selected claim whose class names its VG is decided: the reserve route leaves it room", (t) => {
  const s = oneNode({ "pool-0": 100 });
  s.applyPvc(pvc("ns", "named", { className: "lvm-pool0", size: "80Gi", selectedNode: "n1" }));
  s.applyPvc(pvc("ns", "loose", { className: "lvm", size: "30Gi", selectedNode: "n1" }));
  const refused = s.grant("ns/loose", "n1", lvmRequest("ns/loose", 30));
  t.deepEqual(refused, {
    ok: false,
    reason: "vg pool-0: need 30Gi, free 20Gi of 100Gi (held by selected ns/named 80Gi (pool-0))",
  });
  t.true(s.grant("ns/loose", "n1", lvmRequest("ns/loose", 20)).ok, "what fits is granted");
});

test("defect 2: an older PVC or PV event never takes back what a newer one recorded", (t) => {
  const s = oneNode({ "pool-0": 100 });
  const at = <T extends { metadata?: { resourceVersion?: string } }>(o: T, rv: string): T => {
    o.metadata!.resourceVersion = rv;
    return o;
  };
  s.applyPvc(at(pvc("ns", "a", { className: "lvm", size: "30Gi", selectedNode: "n1" }), "10"));
  s.applyPvc(at(pvc("ns", "a", { className: "lvm", size: "30Gi" }), "9"));
  t.is(s.ledger.effective("ns/a")?.kind, "selected");
  t.deepEqual([...podStorage(pod("ns", "p", ["a"]), s).pins.keys()], ["n1"], "still pinned to its node");
  s.applyPv(at(pv("pv-x", { node: "n1", size: "20Gi", vgName: "pool-0" }), "20"));
  s.applyPv(at(pv("pv-x", { node: "n1", size: "5Gi", vgName: "pool-0" }), "19"));
  t.is(used(s, "n1", "pool-0"), 50 * Gi);
});

test("defect 2: no interleaving of PVC, PV and reserve events drops or doubles a claim's space", (t) => {
  // One claim's life: held by filter; someone labels the PVC (v9); kube-scheduler selects n1 (v10);
  // the CSI driver calls the reserve route, whose patch returns v12; the PV appears (v13), then the
  // PVC is bound (v14). The PVC watch delivers v9, v10, v12, v14 in order, but at any point relative
  // to the reserve call and to the PV watch. The patch's answer and its watch echo race each other.
  const alloc = JSON.stringify({ node: "n1", volumeType: "LVM", vgName: "pool-0", bytes: 30 * Gi });
  const version = (rv: string, spec: Parameters<typeof pvc>[2]) => {
    const o = pvc("ns", "a", { className: "lvm", size: "30Gi", ...spec });
    o.metadata!.resourceVersion = rv;
    return o;
  };
  const v9 = version("9", {});
  v9.metadata!.labels = { app: "db" };
  const v10 = version("10", { selectedNode: "n1" });
  const v12 = version("12", { selectedNode: "n1", allocation: alloc });
  const v14 = version("14", { selectedNode: "n1", allocation: alloc, volumeName: "pv-a" });
  const pvA = pv("pv-a", { node: "n1", size: "30Gi", vgName: "pool-0", claim: { namespace: "ns", name: "a" } });
  pvA.metadata!.resourceVersion = "13";
  type Step = "watch v9" | "watch v10" | "watch v12" | "watch v14" | "watch pv" | "grant" | "patched";
  const steps: Step[] = ["watch v9", "watch v10", "watch v12", "watch v14", "watch pv", "grant", "patched"];
  const before = (seq: Step[], a: Step, b: Step) => seq.indexOf(a) < seq.indexOf(b);
  const orders = permutations(steps).filter(
    (seq) =>
      before(seq, "watch v9", "watch v10") &&
      before(seq, "watch v10", "watch v12") &&
      before(seq, "watch v12", "watch v14") &&
      before(seq, "grant", "patched") &&
      before(seq, "grant", "watch v12") &&
      before(seq, "patched", "watch pv") &&
      before(seq, "patched", "watch v14"),
  );
  t.true(orders.length >= 10);
  for (const seq of orders) {
    const s = oneNode({ "pool-0": 100, "pool-1": 100 });
    s.applyPvc(version("8", {}));
    scheduleOn(s, "n1", "p", ["a"]);
    let granted = false;
    for (const step of seq) {
      if (step === "watch v9") s.applyPvc(v9);
      if (step === "watch v10") s.applyPvc(v10);
      if (step === "watch v12") s.applyPvc(v12);
      if (step === "watch v14") s.applyPvc(v14);
      if (step === "watch pv") s.applyPv(pvA);
      if (step === "grant") granted = s.grant("ns/a", "n1", lvmRequest("ns/a", 30, "pool-0"), now + 60_000).ok;
      if (step === "patched") s.applyPvc(v12, true);
      const total = used(s, "n1", "pool-0") + used(s, "n1", "pool-1") + (s.ledger.usage("n1")?.unplaced ?? 0);
      t.is(total, 30 * Gi, `${seq.join(" → ")}: after ${step}`);
      if (granted) t.is(s.ledger.firmUsage("n1").vg.get("pool-0"), 30 * Gi, `${seq.join(" → ")}: firm after ${step}`);
    }
    t.true(granted);
    t.deepEqual(Object.keys(s.ledger.snapshot().claims), ["pv:pv-a"], seq.join(" → "));
  }
});

test("defect 2: an allocation granted ahead of the cache ends at its TTL if the selection never shows", (t) => {
  const s = oneNode({ "pool-0": 100 });
  s.applyPvc(pvc("ns", "a", { className: "lvm", size: "30Gi" }));
  t.true(s.grant("ns/a", "n1", lvmRequest("ns/a", 30), now + 60_000).ok);
  s.applyPvc({
    ...pvc("ns", "a", { className: "lvm", size: "30Gi" }),
    metadata: { ...pvc("ns", "a", {}).metadata, labels: { x: "y" } },
  });
  t.is(used(s, "n1", "pool-0"), 30 * Gi, "an event without the selection does not end it early");
  s.expire(now + 59_999);
  t.is(used(s, "n1", "pool-0"), 30 * Gi);
  s.expire(now + 60_000);
  t.is(used(s, "n1", "pool-0"), 0);
});

test("defect 3: an allocation lives exactly as long as the selection of its node", (t) => {
  const alloc = (node: string) => JSON.stringify({ node, volumeType: "LVM", vgName: "pool-0", bytes: 60 * Gi });
  const rows: Array<{ what: string; spec: Parameters<typeof pvc>[2]; n1: number; n2: number }> = [
    { what: "selected and allocated on n1", spec: { selectedNode: "n1", allocation: alloc("n1") }, n1: 60, n2: 0 },
    {
      what: "selection removed (provisioning failed, or an operator)",
      spec: { allocation: alloc("n1") },
      n1: 0,
      n2: 0,
    },
    { what: "rescheduled to n2", spec: { selectedNode: "n2", allocation: alloc("n1") }, n1: 0, n2: 60 },
  ];
  for (const row of rows) {
    // Fresh (as after a restart) and as an update of an allocated claim: the same answer.
    const fresh = clusterWith(["n1", "n2"], now);
    fresh.applyPvc(pvc("ns", "a", { className: "lvm", size: "60Gi", ...row.spec }));
    const updated = clusterWith(["n1", "n2"], now);
    updated.applyPvc(pvc("ns", "a", { className: "lvm", size: "60Gi", selectedNode: "n1" }));
    t.true(updated.grant("ns/a", "n1", lvmRequest("ns/a", 60)).ok);
    updated.applyPvc(pvc("ns", "a", { className: "lvm", size: "60Gi", ...row.spec }));
    for (const s of [fresh, updated]) {
      const total = (node: string) => used(s, node, "pool-0") + used(s, node, "pool-1");
      t.is(total("n1"), row.n1 * Gi, `${row.what}: n1`);
      t.is(total("n2"), row.n2 * Gi, `${row.what}: n2`);
    }
  }
  // The pod's own retry is not refused by its old allocation: 40Gi of pool-0 taken by another volume.
  const s = clusterWith(["n1"], now);
  s.applyPv(pv("pv-x", { node: "n1", size: "40Gi", vgName: "pool-0" }));
  s.applyPvc(pvc("ns", "a", { className: "lvm-pool0", size: "60Gi", selectedNode: "n1", allocation: alloc("n1") }));
  s.applyPvc(pvc("ns", "a", { className: "lvm-pool0", size: "60Gi", allocation: alloc("n1") }));
  const retry = filterNodes(podStorage(pod("ns", "p", ["a"]), s), ["n1"], s, "binpack", now);
  t.deepEqual(retry.passing, ["n1"], JSON.stringify(retry.unresolvable));
});

test("defect 4: selected claims replayed in any order are packed so that every reserve call fits", (t) => {
  const sizes: Record<string, number> = { a: 40, b: 50, c: 60, d: 50 };
  for (const order of permutations(Object.keys(sizes))) {
    const s = oneNode({ "pool-0": 100, "pool-1": 100 });
    for (const n of order) {
      s.applyPvc(pvc("ns", n, { className: "lvm", size: `${sizes[n]}Gi`, selectedNode: "n1" }));
      t.deepEqual(overcommitted(s, "n1"), [], `${order.join("")}: after ${n}`);
    }
    // The CSI driver's calls come in yet another order; each must fit.
    for (const n of [...order].reverse()) {
      const r = s.grant(`ns/${n}`, "n1", lvmRequest(`ns/${n}`, sizes[n]!));
      t.true(r.ok, `${order.join("")}: reserve ${n}: ${r.ok ? "" : r.reason}`);
      t.deepEqual(overcommitted(s, "n1"), [], `${order.join("")}: after reserving ${n}`);
    }
    t.deepEqual([...s.ledger.firmUsage("n1").vg.values()], [100 * Gi, 100 * Gi]);
  }
});

test("defect 4: a node's loose claims are packed again when its VGs change", (t) => {
  const s = oneNode({ "pool-0": 100, "pool-1": 100 });
  for (const [n, gi] of [
    ["a", 30],
    ["b", 30],
  ] as const) {
    s.applyPvc(pvc("ns", n, { className: "lvm", size: `${gi}Gi`, selectedNode: "n1" }));
  }
  // Binpack put both in one VG; that VG shrinks to 40Gi: they are spread over the two.
  const first = s.ledger.effective("ns/a")!.allocation.vg!;
  s.applyNls(
    nls("n1", {
      vgs: [
        { name: "pool-0", allocatable: (first === "pool-0" ? 40 : 100) * Gi },
        { name: "pool-1", allocatable: (first === "pool-1" ? 40 : 100) * Gi },
      ],
    }),
  );
  t.deepEqual(overcommitted(s, "n1"), []);
  t.not(s.ledger.effective("ns/a")!.allocation.vg, s.ledger.effective("ns/b")!.allocation.vg);
});

test("defect 6: a bound claim's expansion is counted from its request until the PV's capacity catches up", (t) => {
  const s = clusterWith(["n1"], now);
  const claim = { namespace: "ns", name: "a" };
  const bound = (size: string, resourceVersion: string) => {
    const c = pvc("ns", "a", { className: "lvm", size, selectedNode: "n1", volumeName: "pv-a" });
    c.metadata!.resourceVersion = resourceVersion;
    return c;
  };
  s.applyPv(pv("pv-a", { node: "n1", size: "30Gi", vgName: "pool-0", claim }));
  s.applyPvc(bound("30Gi", "10"));
  t.is(used(s, "n1", "pool-0"), 30 * Gi);
  // The user asks for 50Gi: external-resizer has not grown the LV (nor the PV) yet.
  s.applyPvc(bound("50Gi", "11"));
  t.is(used(s, "n1", "pool-0"), 50 * Gi, "the growth is promised to no one else");
  s.applyPvc(bound("30Gi", "10"));
  t.is(used(s, "n1", "pool-0"), 50 * Gi, "an older PVC event does not take it back");
  // The resize succeeded: the PV says 50Gi, counted once.
  s.applyPv(pv("pv-a", { node: "n1", size: "50Gi", vgName: "pool-0", claim }));
  t.is(used(s, "n1", "pool-0"), 50 * Gi);
  // A PV seen before its claim, and a PV whose claim is another PVC of the same name, count their capacity.
  const s2 = clusterWith(["n1"], now);
  s2.applyPv(pv("pv-b", { node: "n1", size: "20Gi", vgName: "pool-0", claim: { ...claim, uid: "old" } }));
  s2.applyPvc(bound("40Gi", "3"));
  t.is(s2.ledger.snapshot().claims["pv:pv-b"]?.bytes, 20 * Gi, "not the other PVC's request");
  t.is(s2.ledger.effective("ns/a")?.kind, "selected", "the new PVC of that name waits for its own volume");
});

test("an expansion the VG cannot hold is counted, shown as overcommitted, and no new volume is promised there", (t) => {
  const s = clusterWith(["n1"], now);
  const bound = (name: string, size: string, resourceVersion: string) => {
    const c = pvc("ns", name, { className: "lvm", size, selectedNode: "n1", volumeName: `pv-${name}` });
    c.metadata!.resourceVersion = resourceVersion;
    return c;
  };
  for (const [name, size] of [
    ["a", "30Gi"],
    ["b", "60Gi"],
  ] as const) {
    s.applyPv(pv(`pv-${name}`, { node: "n1", size, vgName: "pool-0", claim: { namespace: "ns", name } }));
    s.applyPvc(bound(name, size, "1"));
  }
  t.deepEqual(overcommittedVgs(s.record("n1")!.state!), []);
  // 30 → 40Gi fits: counted, listed, nothing over.
  s.applyPvc(bound("a", "40Gi", "2"));
  t.deepEqual(s.expansions("n1"), [{ pv: "pv-a", claim: "ns/a", vg: "pool-0", fromBytes: 30 * Gi, toBytes: 40 * Gi }]);
  t.deepEqual(overcommittedVgs(s.record("n1")!.state!), []);
  // 40 → 50Gi does not: the extender cannot refuse it (the resizer does not ask), so it shows.
  s.applyPvc(bound("a", "50Gi", "3"));
  t.is(used(s, "n1", "pool-0"), 110 * Gi);
  t.deepEqual(overcommittedVgs(s.record("n1")!.state!), [
    { vg: "pool-0", allocatable: 100 * Gi, committed: 110 * Gi, bytes: 10 * Gi },
  ]);
  t.deepEqual(s.nodesOvercommitted(), ["n1"]);
  s.applyPvc(pvc("ns", "new", { className: "lvm-pool0", size: "1Gi" }));
  const out = filterNodes(podStorage(pod("ns", "p", ["new"]), s), ["n1"], s, "binpack", now);
  t.deepEqual(out.passing, []);
  t.is(out.details.n1, "vg pool-0: need 1Gi, free 0 of 100Gi");
  // The resize failed and the user set the request back: nothing is over any more.
  s.applyPvc(bound("a", "30Gi", "4"));
  t.deepEqual(s.expansions("n1"), []);
  t.deepEqual(overcommittedVgs(s.record("n1")!.state!), []);
  t.deepEqual(s.nodesOvercommitted(), []);
});

test("the store tells which nodes are overcommitted, sorted, as their ledger usage and NLS change", (t) => {
  const s = clusterWith(["n3", "n1", "n2"], now);
  const big = (name: string, node: string, vgName = "pool-0") => pv(name, { node, size: "120Gi", vgName });
  t.deepEqual(s.nodesOvercommitted(), []);
  s.applyPv(big("pv-3", "n3"));
  s.applyPv(big("pv-1", "n1", "pool-1"));
  t.deepEqual(s.nodesOvercommitted(), ["n1", "n3"]);
  // n3's agent reports a bigger VG: the same PV fits.
  s.applyNls(nls("n3", { vgs: [{ name: "pool-0", allocatable: 200 * Gi }] }));
  t.deepEqual(s.nodesOvercommitted(), ["n1"]);
  s.applyPv(big("pv-2", "n2"));
  s.deleteNls("n2");
  t.deepEqual(s.nodesOvercommitted(), ["n1"], "a node without an NLS has no VG to be over");
  s.deletePv("pv-1");
  t.deepEqual(s.nodesOvercommitted(), []);
});

test("pvRevision changes when a PV is added, replaced or removed, and only then", (t) => {
  const s = clusterWith(["n1"], now);
  const at = (resourceVersion: string, size = "10Gi") => {
    const p = pv("pv-a", { node: "n1", size, vgName: "pool-0" });
    p.metadata!.uid = "uid-a";
    p.metadata!.resourceVersion = resourceVersion;
    return p;
  };
  const seen = [s.pvRevision];
  const changed = () => {
    const r = s.pvRevision;
    const fresh = r !== seen.at(-1);
    seen.push(r);
    return fresh;
  };
  s.applyPv(at("5"));
  t.true(changed(), "added");
  s.applyPv(at("6", "20Gi"));
  t.true(changed(), "replaced");
  s.applyPv(at("4"));
  t.false(changed(), "an older event of the same PV is ignored");
  t.is(s.pv("pv-a")?.resourceVersion, "6");
  s.applyPvc(pvc("ns", "c", { className: "lvm", size: "1Gi" }));
  s.applyNls(nls("n1", { vgs: [{ name: "pool-0", allocatable: 200 * Gi }] }));
  t.false(changed(), "PVC and NLS changes leave the PVs as they were");
  s.deletePv("pv-unknown");
  t.false(changed(), "deleting a PV the cache never had");
  s.deletePv("pv-a");
  t.true(changed(), "removed");
});

test("nameIndex knows the nodes with an NLS, and is made again only when that set changes", (t) => {
  const s = new ClusterStore();
  s.applyNls(nls("n2", { vgs: [{ name: "pool-0", allocatable: 10 * Gi }] }));
  s.applyNls(nls("n1", { vgs: [{ name: "pool-0", allocatable: 10 * Gi }] }));
  s.applyLease(lease("n3", new Date(now)));
  const find = (name: string) => s.nameIndex().find(Buffer.from(name), 0, name.length);
  const first = s.nameIndex();
  t.deepEqual(first.names, ["n1", "n2"]);
  t.is(find("n1"), "n1");
  t.is(find("n3"), undefined, "a lease alone makes no node of the index");
  s.applyNls(nls("n1", { vgs: [{ name: "pool-0", allocatable: 20 * Gi }] }));
  t.is(s.nameIndex(), first, "an NLS update keeps the set");
  s.applyNls(nls("n3", { vgs: [{ name: "pool-0", allocatable: 10 * Gi }] }));
  t.is(find("n3"), "n3");
  s.deleteNls("n1");
  t.is(find("n1"), undefined);
  t.deepEqual(s.nameIndex().names, ["n2", "n3"]);
});

test("after a hold, each node's state is made from its ledger usage as it stands at the end", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  for (const name of ["a", "b", "c"]) s.applyPvc(pvc("ns", name, { className: "lvm", size: "30Gi" }));
  const p = pod("ns", "p", ["a", "b", "c"]);
  const storage = podStorage(p, s);
  const before = s.record("n1")!.state!;
  const placed = filterNodes(storage, ["n1"], s, "binpack", now).choice!.placements;
  t.is(s.hold(p, storage, placed, 60_000, now), 3);
  const after = s.record("n1")!.state!;
  t.not(after, before, "a new state object: memos on the old one cannot leak");
  const fresh = nodeState(after.view, s.ledger.usage("n1"));
  t.deepEqual([...after.free], [...fresh.free]);
  t.is(after.totalFree, before.totalFree - 90 * Gi);
  // Held again (the same pod filtered again): the same spots, the same free space.
  t.is(s.hold(p, storage, placed, 60_000, now + 1), 3);
  t.deepEqual([...s.record("n1")!.state!.free], [...fresh.free]);
});
