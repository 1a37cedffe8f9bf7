import test from "ava";
import { Gi, nls, pv, pvc, storageClass } from "@nls/testkit";
import type { ClusterObjects } from "./cluster-objects.js";
import type { PodRequest } from "./pod-burst.js";
import { simulate, SimulationInputError, type Simulation } from "./simulate.js";
import type { Strategy } from "../scoring.js";

/** A cluster of nodes with the given VGs (name → Gi), the classes `lvm` and `lvm-fast` (vgName fast-0). */
function cluster(
  vgsByNode: Record<string, Record<string, number>>,
  extra: Partial<ClusterObjects> = {},
): ClusterObjects {
  return {
    nodes: Object.keys(vgsByNode).map((name) => ({ metadata: { name } })),
    nls: Object.entries(vgsByNode).map(([node, vgs]) =>
      nls(node, { vgs: Object.entries(vgs).map(([name, gi]) => ({ name, allocatable: gi * Gi })) }),
    ),
    storageClasses: [
      storageClass("lvm", { volumeType: "LVM" }),
      storageClass("lvm-fast", { volumeType: "LVM", vgName: "fast-0" }),
      storageClass("other", {}, "ebs.csi.aws.com"),
    ],
    pvs: [],
    pvcs: [],
    ignored: {},
    ...extra,
  };
}

/** `n` pods, each with one volume per size (Gi) of `storageClass`. */
const pods = (n: number, sizes: number[], storageClass = "lvm", first = 1): PodRequest[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `pod-${first + i}`,
    volumes: sizes.map((gi) => ({ bytes: gi * Gi, storageClass })),
  }));

/** Each pod as `node:vg` (or `-` when refused). */
const placements = (sim: Simulation): string[] =>
  sim.pods.map((p) => (p.node ? `${p.node}:${p.volumes.map((v) => v.vg ?? v.device).join("+")}` : "-"));

/** Each VG as `node/vg before→after` in Gi. */
const usage = (sim: Simulation): string[] =>
  sim.capacity.map((r) => `${r.node}/${r.name} ${r.before / Gi}→${r.after / Gi}`);

const cases: Array<{
  title: string;
  objects: ClusterObjects;
  pods: PodRequest[];
  strategy: Strategy;
  placed: string[];
  usage?: string[];
  refusal?: { pod: string; reasons: Array<{ reason: string; nodes: string[] }> };
}> = [
  {
    title: "binpack fills one node before it starts the next",
    objects: cluster({ a: { "pool-0": 100 }, b: { "pool-0": 100 } }),
    pods: pods(4, [30]),
    strategy: "binpack",
    placed: ["a:pool-0", "a:pool-0", "a:pool-0", "b:pool-0"],
    usage: ["a/pool-0 0→90", "b/pool-0 0→30"],
  },
  {
    title: "spread alternates between the emptiest nodes",
    objects: cluster({ a: { "pool-0": 100 }, b: { "pool-0": 100 } }),
    pods: pods(4, [30]),
    strategy: "spread",
    placed: ["a:pool-0", "b:pool-0", "a:pool-0", "b:pool-0"],
    usage: ["a/pool-0 0→60", "b/pool-0 0→60"],
  },
  {
    title: "equal scores go to the first node by name, whatever the input order",
    objects: cluster({ c: { "pool-0": 100 }, a: { "pool-0": 100 }, b: { "pool-0": 100 } }),
    pods: pods(1, [10]),
    strategy: "binpack",
    placed: ["a:pool-0"],
  },
  {
    title: "a pod larger than every VG fits nowhere, with the extender's reason per node",
    objects: cluster({ a: { "pool-0": 100 }, b: { "pool-0": 100, "pool-1": 50 } }),
    pods: pods(1, [300]),
    strategy: "binpack",
    placed: ["-"],
    refusal: {
      pod: "pod-1",
      reasons: [
        { reason: "vg pool-0: need 300Gi, free 100Gi of 100Gi", nodes: ["a"] },
        {
          reason: "vg pool-0: need 300Gi, free 100Gi of 100Gi; vg pool-1: need 300Gi, free 50Gi of 50Gi",
          nodes: ["b"],
        },
      ],
    },
  },
  {
    title: "the vgName class lands only on that VG, even where another VG is emptier",
    objects: cluster({ a: { "pool-0": 500 }, b: { "pool-0": 500, "fast-0": 50 } }),
    pods: pods(3, [20], "lvm-fast"),
    strategy: "spread",
    placed: ["b:fast-0", "b:fast-0", "-"],
    usage: ["a/pool-0 0→0", "b/fast-0 0→40", "b/pool-0 0→0"],
    refusal: {
      pod: "pod-3",
      reasons: [
        { reason: "vg fast-0 is not selected on this node (selected: pool-0)", nodes: ["a"] },
        { reason: "vg fast-0: need 20Gi, free 10Gi of 50Gi", nodes: ["b"] },
      ],
    },
  },
  {
    title: "already-bound PVs count as used: before, and against the next pod",
    objects: cluster(
      { a: { "pool-0": 100 }, b: { "pool-0": 100 } },
      {
        pvs: [pv("db", { node: "a", size: "80Gi", vgName: "pool-0", claim: { namespace: "app", name: "db" } })],
        pvcs: [pvc("app", "db", { className: "lvm", size: "80Gi", volumeName: "db" })],
      },
    ),
    pods: pods(3, [50]),
    strategy: "binpack",
    placed: ["b:pool-0", "b:pool-0", "-"],
    usage: ["a/pool-0 80→80", "b/pool-0 0→100"],
    refusal: {
      pod: "pod-3",
      reasons: [
        { reason: "vg pool-0: need 50Gi, free 20Gi of 100Gi", nodes: ["a"] },
        { reason: "vg pool-0: need 50Gi, free 0 of 100Gi", nodes: ["b"] },
      ],
    },
  },
  {
    title: "a PVC of the input that kube-scheduler already gave a node counts there",
    objects: cluster(
      { a: { "pool-0": 100 } },
      { pvcs: [pvc("app", "cache", { className: "lvm", size: "70Gi", selectedNode: "a" })] },
    ),
    pods: pods(2, [20]),
    strategy: "binpack",
    placed: ["a:pool-0", "-"],
    usage: ["a/pool-0 70→90"],
  },
  {
    title: "a pod's volumes all go to one node; two volumes may share or split its VGs",
    objects: cluster({ a: { "pool-0": 60, "pool-1": 60 } }),
    pods: pods(1, [50, 50]),
    strategy: "binpack",
    placed: ["a:pool-0+pool-1"],
  },
  {
    title: "a Node without a NodeLocalStorage is considered and refuses",
    objects: { ...cluster({ a: { "pool-0": 10 } }), nodes: [{ metadata: { name: "a" } }, { metadata: { name: "z" } }] },
    pods: pods(1, [20]),
    strategy: "binpack",
    placed: ["-"],
    refusal: {
      pod: "pod-1",
      reasons: [
        { reason: "vg pool-0: need 20Gi, free 10Gi of 10Gi", nodes: ["a"] },
        { reason: "no NodeLocalStorage for this node (is the nls agent running here?)", nodes: ["z"] },
      ],
    },
  },
];

for (const c of cases) {
  test(c.title, (t) => {
    const sim = simulate(c.objects, c.pods, c.strategy);
    t.deepEqual(placements(sim), c.placed);
    t.is(sim.placed, c.placed.filter((p) => p !== "-").length);
    if (c.usage) t.deepEqual(usage(sim), c.usage);
    if (c.refusal) t.deepEqual(sim.pods.find((p) => p.pod === c.refusal!.pod)?.refusals, c.refusal.reasons);
  });
}

test("each strategy starts from the same cluster: a run leaves the input objects as they were", (t) => {
  const objects = cluster({ a: { "pool-0": 100 } });
  const before = JSON.stringify(objects);
  const first = simulate(objects, pods(3, [30]), "binpack");
  const second = simulate(objects, pods(3, [30]), "binpack");
  t.deepEqual(second, first);
  t.is(JSON.stringify(objects), before);
});

for (const [title, request, message] of [
  ["a class the cluster lacks", pods(1, [1], "missing"), /StorageClass missing is not in the cluster/],
  ["a class of another provisioner", pods(1, [1], "other"), /belongs to provisioner ebs\.csi\.aws\.com, not to nls/],
] as const) {
  test(`${title} is a clear input error`, (t) => {
    t.throws(() => simulate(cluster({ a: { "pool-0": 10 } }), request, "binpack"), {
      instanceOf: SimulationInputError,
      message,
    });
  });
}
