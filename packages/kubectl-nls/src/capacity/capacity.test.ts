import test from "ava";
import { Gi, lease, nls, pv, pvc, storageClass } from "@nls/testkit";
import { localClassOf } from "@nls/extender";
import { node, SETTINGS, stateOf } from "../../testing/state.js";
import { addReservations, storeFor, type ClusterState, type DecisionSettings } from "../cluster/state.js";
import { capacity, type CapacityQuery } from "./capacity.js";

const now = Date.parse("2026-03-01T12:00:00Z");
const ago = (s: number) => new Date(now - s * 1000);

const classes = [
  storageClass("lvm", { volumeType: "LVM" }),
  storageClass("fast", { volumeType: "LVM", vgName: "fast-0" }),
  storageClass("ssd", { volumeType: "Device", mediaType: "ssd" }),
  storageClass("mp", { volumeType: "MountPoint" }),
];

/** n1: pool-0 100Gi + fast-0 50Gi + two ssd devices, an hdd and a mount point; n2: pool-0 200Gi; n3: Node only. */
function cluster(leaseMode: DecisionSettings["leaseMode"] = "required") {
  const state: ClusterState = stateOf(
    {
      nodes: [node("n1"), node("n2"), node("n3")],
      nls: [
        // local-gone: an LV whose Retain PV was deleted; the extender counts it as used.
        nls("n2", { vgs: [{ name: "pool-0", allocatable: 200 * Gi, lvs: [{ name: "local-gone", total: 5 * Gi }] }] }),
        nls("n1", {
          vgs: [
            { name: "pool-0", allocatable: 100 * Gi },
            { name: "fast-0", allocatable: 50 * Gi },
          ],
          devices: [
            { name: "/dev/sdb", total: 100 * Gi, mediaType: "ssd" },
            { name: "/dev/sdc", total: 200 * Gi, mediaType: "ssd" },
            { name: "/dev/sdd", total: 300 * Gi, mediaType: "hdd" },
          ],
          mountPoints: [{ name: "/mnt/disk1", total: 100 * Gi, device: "/dev/sde" }],
        }),
      ],
      storageClasses: classes,
      pvs: [
        pv("pv-a", { node: "n1", size: "30Gi", vgName: "pool-0", claim: { namespace: "default", name: "a" } }),
        pv("pv-dev", { node: "n1", size: "100Gi", device: "/dev/sdb", claim: { namespace: "default", name: "d" } }),
      ],
      pvcs: [
        pvc("default", "a", { className: "lvm", size: "30Gi", volumeName: "pv-a" }),
        pvc("default", "d", { className: "ssd", size: "100Gi", volumeName: "pv-dev" }),
        pvc("default", "b", { className: "fast", size: "20Gi", selectedNode: "n1" }),
      ],
    },
    [lease("n1", ago(5), 40), lease("n2", ago(95), 40)],
  );
  const settings = { ...SETTINGS, leaseMode };
  const store = storeFor(state, settings);
  // The extender holds a reservation of 10Gi on n2 (only its /cache shows it).
  addReservations(store, {
    nodes: {},
    claims: { "default/c": { source: "tentative", node: "n2", vg: "pool-0", bytes: 10 * Gi } },
  });
  return { state, settings, ledger: store.ledger.snapshot() };
}

test("per node and VG: allocatable, committed by source, free and utilisation", (t) => {
  const { state, settings, ledger } = cluster();
  const c = capacity(state, ledger, settings, now);
  t.deepEqual(
    c.nodes.map((n) => n.node),
    ["n1", "n2"],
    "nodes with a NodeLocalStorage, sorted",
  );
  t.deepEqual(c.nodesWithoutNls, ["n3"]);
  const [n1, n2] = c.nodes;
  t.deepEqual(n1!.vgs, [
    {
      name: "fast-0",
      allocatable: 50 * Gi,
      committed: 20 * Gi,
      bySource: { pv: 0, lv: 0, allocation: 0, selected: 20 * Gi, tentative: 0 },
      free: 30 * Gi,
      utilisation: 0.4,
    },
    {
      name: "pool-0",
      allocatable: 100 * Gi,
      committed: 30 * Gi,
      bySource: { pv: 30 * Gi, lv: 0, allocation: 0, selected: 0, tentative: 0 },
      free: 70 * Gi,
      utilisation: 0.3,
    },
  ]);
  t.deepEqual(n1!.devices, { total: 3, free: 2 }, "/dev/sdb is held by pv-dev; the mount point is not a device");
  t.deepEqual(n2!.vgs[0]!.bySource, { pv: 0, lv: 5 * Gi, allocation: 0, selected: 0, tentative: 10 * Gi });
  t.deepEqual(n2!.unexplainedLvs, [{ vg: "pool-0", lv: "local-gone", bytes: 5 * Gi, excess: false }]);
  t.deepEqual(n1!.unexplainedLvs, []);
  t.is(n2!.vgs[0]!.free, 185 * Gi);
});

test("agent liveness comes from the Lease; an expired one is the reason the extender fails the node", (t) => {
  const { state, settings, ledger } = cluster();
  const [n1, n2] = capacity(state, ledger, settings, now).nodes;
  t.deepEqual(n1!.agent, { state: "ok", renewedSecondsAgo: 5 });
  t.is(n2!.agent.state, "expired");
  t.is(n2!.agent.renewedSecondsAgo, 95);
  t.is(n2!.agent.problem, "nls agent lease nls-node-lease/nls-agent-n2 expired 55s ago (agent down?)");
});

test("a missing Lease fails the node with --agent-lease=required and not with optional", (t) => {
  for (const [mode, problem] of [
    ["required", "no nls agent lease nls-node-lease/nls-agent-n1 (is the agent running?)"],
    ["optional", undefined],
  ] as const) {
    const { state, settings, ledger } = cluster(mode);
    const s: ClusterState = { ...state, leases: [] };
    const n1 = capacity(s, ledger, settings, now).nodes[0]!;
    t.is(n1.agent.state, "no-lease");
    t.is(n1.agent.problem, problem, mode);
  }
});

test("totals add every VG; the largest free VG counts only nodes whose agent is trusted", (t) => {
  const { state, settings, ledger } = cluster();
  const { totals } = capacity(state, ledger, settings, now);
  t.is(totals.allocatable, 350 * Gi);
  t.is(totals.committed, 65 * Gi);
  t.is(totals.free, 285 * Gi);
  t.deepEqual(totals.devices, { total: 3, free: 2 });
  t.is(totals.agentsOk, 1);
  t.deepEqual(totals.largestFree, { node: "n1", vg: "pool-0", bytes: 70 * Gi }, "n2 has more, but its agent is down");
});

const queryCases: Array<[string, CapacityQuery, Array<[string, string[], number]>]> = [
  ["--node", { node: "n2" }, [["n2", ["pool-0"], 0]]],
  [
    "--class naming a VG: only that VG",
    { localClass: localClassOf(classes[1]!) },
    [
      ["n1", ["fast-0"], 0],
      ["n2", [], 0],
    ],
  ],
  [
    "--class of Device volumes: no VGs, devices of its media type",
    { localClass: localClassOf(classes[2]!) },
    [
      ["n1", [], 2],
      ["n2", [], 0],
    ],
  ],
  [
    "--class of MountPoint volumes: no VGs, the mount points",
    { localClass: localClassOf(classes[3]!) },
    [
      ["n1", [], 1],
      ["n2", [], 0],
    ],
  ],
  [
    "--class of any VG: every VG, no devices",
    { localClass: localClassOf(classes[0]!) },
    [
      ["n1", ["fast-0", "pool-0"], 0],
      ["n2", ["pool-0"], 0],
    ],
  ],
];
for (const [title, query, want] of queryCases) {
  test(`capacity ${title}`, (t) => {
    const { state, settings, ledger } = cluster();
    const c = capacity(state, ledger, settings, now, query);
    t.deepEqual(
      c.nodes.map((n) => [n.node, n.vgs.map((v) => v.name), n.devices.total]),
      want,
    );
  });
}

test("an overcommitted VG shows negative free space", (t) => {
  const state = stateOf({
    nls: [nls("n1", { vgs: [{ name: "pool-0", allocatable: 10 * Gi }] })],
    storageClasses: classes,
    pvs: [pv("pv-big", { node: "n1", size: "15Gi", vgName: "pool-0" })],
  });
  const ledger = storeFor(state, SETTINGS).ledger.snapshot();
  const vg = capacity(state, ledger, SETTINGS, now).nodes[0]!.vgs[0]!;
  t.is(vg.free, -5 * Gi);
  t.is(vg.utilisation, 1.5);
});

test("bytes committed on a node with no VG decided yet are shown apart and counted in the totals", (t) => {
  const state = stateOf({ nls: [nls("n1", { vgs: [{ name: "pool-0", allocatable: 10 * Gi }] })] });
  const ledger = { nodes: { n1: { vgs: {}, devices: {}, unplaced: 4 * Gi } }, claims: {} };
  const c = capacity(state, ledger, SETTINGS, now);
  t.is(c.nodes[0]!.undecided, 4 * Gi);
  t.is(c.totals.committed, 4 * Gi);
  t.is(c.totals.free, 6 * Gi);
});

test("a device holding a volume stays counted as taken once the agent reports it in use; other busy ones are not counted", (t) => {
  const { state, settings, ledger } = cluster();
  const n1 = state.objects.nls.find((o) => o.metadata!.name === "n1")!;
  const info = n1.status!.nodeStorageInfo!.deviceInfo!;
  // The Device volume's disk now carries its filesystem; /dev/sdd is a PV of some other VG.
  info.find((d) => d.name === "/dev/sdb")!.inUse = ["carries filesystem ext4 at offset 0x438"];
  info.find((d) => d.name === "/dev/sdd")!.inUse = ["is a physical volume of VG other"];
  n1.status!.filteredStorageInfo!.devices = ["/dev/sdc"];
  const c = capacity(state, ledger, settings, now);
  t.deepEqual(
    c.nodes.find((n) => n.node === "n1")!.devices,
    { total: 2, free: 1 },
    "sdb taken, sdc free, sdd not counted",
  );
});
