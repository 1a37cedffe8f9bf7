import test from "ava";
import { Gi, nls, pod, pv, pvc } from "@nls/testkit";
import { clusterWith } from "../../testing/cluster.js";
import { filterNodes } from "../decide.js";
import { podStorage, type VolumeRequest } from "../request.js";
import type { ClusterStore } from "./store.js";

/**
 * LVs the agent reports that nothing in the ledger accounts for are charged to their VG, in the same
 * step as whatever left them unexplained, and an LV that its PV or in-flight claim accounts for is
 * never counted twice — whatever order the NLS, PV and PVC events arrive in.
 */

const now = Date.parse("2026-03-01T12:00:00Z");
const MiB = 2 ** 20;
const used = (s: ClusterStore, node: string, vg: string) => s.ledger.usage(node)?.vg.get(vg) ?? 0;
const uid = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b";
const lvName = `local-${uid}`;
const lvm = (claim: string, gi: number, vgName?: string): VolumeRequest => ({
  kind: "lvm",
  claim,
  bytes: gi * Gi,
  vgName,
});

/** n1's NLS: pool-0 100Gi and pool-1 50Gi (as `clusterWith`), pool-0 holding `lvs`. */
const nlsWith = (lvs: Array<{ name: string; total: number; managed?: boolean }>, extentSize?: number) =>
  nls("n1", {
    vgs: [
      { name: "pool-0", allocatable: 100 * Gi, lvs, ...(extentSize ? { extentSize } : {}) },
      { name: "pool-1", allocatable: 50 * Gi },
    ],
  });

test("an LV no PV or claim accounts for is charged to its VG: filter and the reserve route see it", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyNls(nlsWith([{ name: "local-orphan", total: 80 * Gi }]));
  t.is(used(s, "n1", "pool-0"), 80 * Gi);
  t.deepEqual(s.unexplainedLvs("n1"), [{ lv: "local-orphan", vg: "pool-0", bytes: 80 * Gi, why: "unexplained" }]);
  t.deepEqual(s.nodesWithUnexplainedLvs(), ["n1"]);
  t.is(s.ledger.snapshot("n1").claims["lv:n1/pool-0/local-orphan"]?.source, "lv");

  s.applyPvc(pvc("ns", "a", { className: "lvm-pool0", size: "30Gi" }));
  const out = filterNodes(podStorage(pod("ns", "p", ["a"]), s), ["n1"], s, "binpack", now);
  t.deepEqual(out.passing, []);
  t.is(out.details.n1, "vg pool-0: need 30Gi, free 20Gi of 100Gi");

  const refused = s.grant("ns/a", "n1", lvm("ns/a", 30, "pool-0"));
  t.false(refused.ok);
  t.regex((refused as { reason: string }).reason, /held by lv without a pv local-orphan 80Gi \(pool-0\)/);

  // The operator removes it: the next status no longer lists it, and the space is back.
  s.applyNls(nlsWith([]));
  t.is(used(s, "n1", "pool-0"), 0);
  t.deepEqual(s.nodesWithUnexplainedLvs(), []);
  t.true(s.grant("ns/a", "n1", lvm("ns/a", 30, "pool-0")).ok);
});

test("only LVs counted in allocatable are charged: the agent's `managed`, else open-local's default names", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyNls(
    nlsWith([
      { name: "root", total: 10 * Gi }, // open-local's status: not a storage-system name
      { name: "csi-x", total: 1 * Gi }, // open-local's status: a storage-system name
      { name: "local-thin", total: 500 * Gi, managed: false }, // the agent says it is not in allocatable
      { name: "data-1", total: 2 * Gi, managed: true }, // a custom --lv-prefix
    ]),
  );
  t.deepEqual(
    s.unexplainedLvs("n1").map((c) => c.lv),
    ["csi-x", "data-1"],
  );
  t.is(used(s, "n1", "pool-0"), 3 * Gi);
});

test("an LV its PV accounts for is counted once, by the PV", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyPv(pv(lvName, { node: "n1", size: "40Gi", vgName: "pool-0" }));
  s.applyNls(nlsWith([{ name: lvName, total: 40 * Gi }]));
  t.is(used(s, "n1", "pool-0"), 40 * Gi);
  t.deepEqual(s.unexplainedLvs("n1"), []);
});

test("a PV of the LV's name on another node does not account for it", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  s.applyPv(pv(lvName, { node: "n2", size: "40Gi", vgName: "pool-0" }));
  s.applyNls(nlsWith([{ name: lvName, total: 40 * Gi }]));
  t.is(used(s, "n1", "pool-0"), 40 * Gi);
  t.is(used(s, "n2", "pool-0"), 40 * Gi);
});

test("an LV larger than its PV counts (the VG's 32 MiB extents) is charged the difference", (t) => {
  const s = clusterWith(["n1"], now);
  // 100 MiB + 1 byte: the PV counts 104 MiB (4 MiB extents: its VG is not known to the PV), LVM gave 128.
  s.applyPv(pv(lvName, { node: "n1", size: String(100 * MiB + 1), vgName: "pool-0" }));
  s.applyNls(nlsWith([{ name: lvName, total: 128 * MiB }], 32 * MiB));
  t.is(used(s, "n1", "pool-0"), 128 * MiB);
  t.deepEqual(s.unexplainedLvs("n1"), [
    { lv: lvName, vg: "pool-0", bytes: 24 * MiB, why: "excess", explainedBy: `pv ${lvName}` },
  ]);
  t.is(s.ledger.usage("n1")?.volumes, 1, "the excess is not a volume of its own");
});

/**
 * A volume's life after the reserve route granted it: the CSI driver creates the LV (the agent reports
 * it), then the PV object, then the PVC is bound. Each of the 6 orders of those three events counts
 * the volume's bytes exactly once after every event; then the Retain PV and the claim are deleted and
 * the LV, which stays, is charged in the same step — the bytes never drop.
 */
const EVENTS = ["nls", "pv", "bound"] as const;
const orders = (xs: readonly (typeof EVENTS)[number][]): Array<Array<(typeof EVENTS)[number]>> =>
  xs.length <= 1
    ? [[...xs]]
    : xs.flatMap((x, i) => orders([...xs.slice(0, i), ...xs.slice(i + 1)]).map((r) => [x, ...r]));

for (const order of orders(EVENTS)) {
  test(`a volume counts once whatever the order of its LV, PV and binding: ${order.join(", ")}`, (t) => {
    const s = clusterWith(["n1"], now);
    const claim = { className: "lvm", size: "40Gi", selectedNode: "n1", uid };
    s.applyPvc(pvc("ns", "a", claim));
    const granted = s.grant("ns/a", "n1", lvm("ns/a", 40));
    t.true(granted.ok);
    const vg = (granted as { allocation: { vg: string } }).allocation.vg;
    t.is(vg, "pool-1");
    const nodeNls = nls("n1", {
      vgs: [
        { name: "pool-0", allocatable: 100 * Gi },
        { name: "pool-1", allocatable: 50 * Gi, lvs: [{ name: lvName, total: 40 * Gi }] },
      ],
    });
    const volume = pv(lvName, { node: "n1", size: "40Gi", vgName: vg, claim: { namespace: "ns", name: "a", uid } });
    for (const event of order) {
      if (event === "nls") s.applyNls(nodeNls);
      if (event === "pv") s.applyPv(volume);
      if (event === "bound") s.applyPvc(pvc("ns", "a", { ...claim, volumeName: lvName }));
      t.is(used(s, "n1", "pool-1"), 40 * Gi, `after ${event}`);
      t.is(used(s, "n1", "pool-0"), 0, `after ${event}`);
    }
    t.deepEqual(s.unexplainedLvs("n1"), []);
    // Retain: the PV object is deleted, the LV stays. The claim (Lost, still selected for n1) counts it
    // again; once the claim is deleted too, the LV is charged in the same step. The bytes never drop.
    s.deletePv(lvName);
    t.is(used(s, "n1", "pool-1"), 40 * Gi);
    t.deepEqual(s.unexplainedLvs("n1"), []);
    s.deletePvc("ns", "a");
    t.is(used(s, "n1", "pool-1"), 40 * Gi);
    t.deepEqual(s.unexplainedLvs("n1"), [{ lv: lvName, vg: "pool-1", bytes: 40 * Gi, why: "unexplained" }]);
  });
}

test("a provisioning that failed after lvcreate leaves an LV that is charged once its claim lets go", (t) => {
  const s = clusterWith(["n1"], now);
  // A class that names its VG: the CSI driver creates the LV without the reserve route.
  const claim = { className: "lvm-pool0", size: "30Gi", selectedNode: "n1", uid };
  s.applyPvc(pvc("ns", "a", claim));
  t.is(used(s, "n1", "pool-0"), 30 * Gi);
  s.applyNls(nlsWith([{ name: lvName, total: 30 * Gi }]));
  t.is(used(s, "n1", "pool-0"), 30 * Gi, "the LV is the claim's own: counted once");
  // external-provisioner gives up on the node (selected-node removed): the LV stays behind.
  s.applyPvc(pvc("ns", "a", { ...claim, selectedNode: undefined }));
  t.is(used(s, "n1", "pool-0"), 30 * Gi, "the selection's bytes pass to the LV in the same step");
  t.is(s.unexplainedLvs("n1")[0]?.lv, lvName);
  s.deletePvc("ns", "a");
  t.is(used(s, "n1", "pool-0"), 30 * Gi);
});

test("an LV named for a claim that holds space on another node is not accounted for by it", (t) => {
  const s = clusterWith(["n1", "n2"], now);
  s.applyPvc(pvc("ns", "a", { className: "lvm-pool0", size: "30Gi", selectedNode: "n2", uid }));
  s.applyNls(nlsWith([{ name: lvName, total: 30 * Gi }]));
  t.is(used(s, "n1", "pool-0"), 30 * Gi);
  t.is(used(s, "n2", "pool-0"), 30 * Gi);
});

test("a recreated PVC of the same name does not account for the old claim's LV", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyPvc(pvc("ns", "a", { className: "lvm-pool0", size: "30Gi", selectedNode: "n1", uid }));
  s.deletePvc("ns", "a");
  s.applyPvc(
    pvc("ns", "a", {
      className: "lvm-pool0",
      size: "30Gi",
      selectedNode: "n1",
      uid: "0a0a0a0a-0b0b-4c0c-8d0d-0e0e0e0e0e0e",
    }),
  );
  s.applyNls(nlsWith([{ name: lvName, total: 30 * Gi }]));
  t.is(used(s, "n1", "pool-0"), 60 * Gi);
});

test("a Retain PV deleted after its claim: the LV is charged in the same step", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyPv(pv(lvName, { node: "n1", size: "40Gi", vgName: "pool-0", claim: { namespace: "ns", name: "a", uid } }));
  s.applyNls(nlsWith([{ name: lvName, total: 40 * Gi }]));
  t.is(used(s, "n1", "pool-0"), 40 * Gi);
  s.deletePv(lvName);
  t.is(used(s, "n1", "pool-0"), 40 * Gi);
  t.is(s.unexplainedLvs("n1")[0]?.why, "unexplained");
});

test("a node whose NLS is deleted has no charges left", (t) => {
  const s = clusterWith(["n1"], now);
  s.applyNls(nlsWith([{ name: "local-orphan", total: 8 * Gi }]));
  s.deleteNls("n1");
  t.deepEqual(s.nodesWithUnexplainedLvs(), []);
  t.is(s.ledger.usage("n1"), undefined);
});
