import test from "ava";
import { Gi } from "@nls/testkit";
import type { Capacity, NodeCapacity } from "./capacity.js";
import { agentText, renderCapacity } from "./render.js";

const agentCases: Array<[Parameters<typeof agentText>[0], string]> = [
  [{ state: "ok", renewedSecondsAgo: 5 }, "ok (5s)"],
  [{ state: "expired", renewedSecondsAgo: 200, problem: "x" }, "expired (3m20s)"],
  [{ state: "no-lease", problem: "x" }, "no lease"],
  [{ state: "no-lease" }, "no lease (trusted)"],
  [{ state: "bad-lease", problem: "x" }, "bad lease"],
];
for (const [agent, want] of agentCases) test(`agentText → ${want}`, (t) => t.is(agentText(agent), want));

const n1: NodeCapacity = {
  node: "n1",
  vgs: [
    {
      name: "pool-0",
      allocatable: 100 * Gi,
      committed: 30 * Gi,
      bySource: { pv: 17 * Gi, lv: 3 * Gi, allocation: 5 * Gi, selected: 0, tentative: 5 * Gi },
      free: 70 * Gi,
      utilisation: 0.3,
    },
  ],
  undecided: 2 * Gi,
  unusableVgs: [{ name: "pool-1", why: "DiskFault" }],
  devices: { total: 2, free: 1 },
  agent: { state: "ok", renewedSecondsAgo: 5 },
  unexplainedLvs: [
    { vg: "pool-0", lv: "local-gone", bytes: 2 * Gi, excess: false },
    { vg: "pool-0", lv: "local-big", bytes: 1 * Gi, excess: true },
  ],
};
const n2: NodeCapacity = {
  node: "n2",
  vgs: [],
  undecided: 0,
  unusableVgs: [],
  devices: { total: 0, free: 0 },
  agent: {
    state: "expired",
    renewedSecondsAgo: 95,
    problem: "nls agent lease nls-node-lease/nls-agent-n2 expired 55s ago",
  },
  unexplainedLvs: [],
};
const cap: Capacity = {
  nodes: [n1, n2],
  totals: {
    allocatable: 100 * Gi,
    committed: 32 * Gi,
    free: 68 * Gi,
    utilisation: 0.32,
    devices: { total: 2, free: 1 },
    agentsOk: 1,
    largestFree: { node: "n1", vg: "pool-0", bytes: 70 * Gi },
  },
  nodesWithoutNls: ["n3"],
};

test("renderCapacity: kubectl-style table, a TOTAL row, then the notes", (t) => {
  t.deepEqual(renderCapacity(cap, { kind: "extender", from: "kube-system/nls-extender", reservations: 1 }, false), [
    "NODE    VG                   ALLOCATABLE   COMMITTED   FREE   USED   DEVICES   AGENT",
    "n1      pool-0               100Gi         30Gi        70Gi   30%    1/2       ok (5s)",
    "n1      (no VG yet)          -             2Gi         -      -      1/2       ok (5s)",
    "n1      pool-1 (DiskFault)   -             -           -      -      1/2       ok (5s)",
    "n2      -                    -             -           -      -      0/0       expired (95s)",
    "TOTAL                        100Gi         32Gi        68Gi   32%    1/2       1/2 ok",
    "",
    "largest free VG: 70Gi on n1/pool-0",
    "no NodeLocalStorage: n3",
    "n2: not offered to pods: nls agent lease nls-node-lease/nls-agent-n2 expired 55s ago",
    "n1: LV pool-0/local-gone (2Gi) has no PV and no claim on its way: counted as used until it is removed (lvremove pool-0/local-gone, once its data is not needed)",
    "n1: LV pool-0/local-big holds 1Gi more than its volume counts: counted as used",
    "committed: the extender's ledger (kube-system/nls-extender), 1 live reservation included",
  ]);
});

test("renderCapacity -o wide: committed split into PVs, selected (with allocations), reservations and orphaned LVs", (t) => {
  const lines = renderCapacity(cap, { kind: "objects", why: "extender not reachable: 503" }, true);
  t.is(
    lines[0],
    "NODE    VG                   ALLOCATABLE   COMMITTED   FREE   USED   PVS    SELECTED   RESERVED   ORPHAN LVS   DEVICES   AGENT",
  );
  t.is(
    lines[1],
    "n1      pool-0               100Gi         30Gi        70Gi   30%    17Gi   5Gi        5Gi        3Gi          1/2       ok (5s)",
  );
  t.is(
    lines.at(-1),
    "committed: computed from PVs and PVCs; the extender's in-memory reservations are not included (extender not reachable: 503)",
  );
});

test("renderCapacity with nothing to show says so", (t) => {
  const empty: Capacity = { ...cap, nodes: [], nodesWithoutNls: [], totals: { ...cap.totals, largestFree: undefined } };
  t.is(renderCapacity(empty, { kind: "objects", why: "-" }, false)[0], "No NodeLocalStorage found.");
});
