import test from "ava";
import { Gi } from "@nls/testkit";
import { refusalText, renderSimulation, table, usageText } from "./render.js";
import type { Simulation } from "./simulate.js";

test("table pads every column but the last and indents by two", (t) => {
  t.deepEqual(
    table([
      ["A", "BB", "C"],
      ["aaa", "b", ""],
    ]),
    ["  A    BB  C", "  aaa  b"],
  );
});

test("table in kubectl's style: no indent, three spaces between columns", (t) => {
  t.deepEqual(
    table(
      [
        ["NAME", "FREE"],
        ["n1", "10Gi"],
      ],
      { indent: "", gap: "   " },
    ),
    ["NAME   FREE", "n1     10Gi"],
  );
});

for (const [used, capacity, expect] of [
  [0, 100 * Gi, "0 (0%)"],
  [20 * Gi, 200 * Gi, "20Gi (10%)"],
  [2 * Gi, 3 * Gi, "2Gi (67%)"],
  [5 * Gi, 0, "5Gi (0%)"],
] as const) {
  test(`usageText(${used}, ${capacity}) = ${expect}`, (t) => t.is(usageText(used, capacity), expect));
}

test("refusals name up to three nodes per reason and count the rest", (t) => {
  t.is(
    refusalText([
      { reason: "vg pool-0: need 9Gi, free 1Gi of 10Gi; vg pool-1: need 9Gi, free 0 of 5Gi", nodes: ["a"] },
      { reason: "no NodeLocalStorage for this node", nodes: ["b", "c", "d", "e", "f"] },
    ]),
    "fits nowhere: a: vg pool-0: need 9Gi, free 1Gi of 10Gi; vg pool-1: need 9Gi, free 0 of 5Gi | " +
      "b, c, d and 2 more: no NodeLocalStorage for this node",
  );
  t.is(refusalText([]), "fits nowhere: no nodes");
});

test("a simulation renders placements, then usage, then `placed N of M pods` last", (t) => {
  const sim: Simulation = {
    strategy: "spread",
    nodes: ["a", "b"],
    pods: [
      {
        pod: "pod-1",
        node: "a",
        refusals: [],
        volumes: [
          { claim: "x/pod-1-vol-0", bytes: 10 * Gi, storageClass: "lvm", vg: "pool-0" },
          { claim: "x/pod-1-vol-1", bytes: 2 * Gi, storageClass: "ssd", device: "/dev/sdc" },
        ],
      },
      {
        pod: "pod-2",
        refusals: [{ reason: "vg pool-0: need 99Gi, free 90Gi of 100Gi", nodes: ["a", "b"] }],
        volumes: [{ claim: "x/pod-2-vol-0", bytes: 99 * Gi, storageClass: "lvm" }],
      },
    ],
    capacity: [
      { node: "a", kind: "vg", name: "pool-0", capacity: 100 * Gi, before: 0, after: 10 * Gi },
      { node: "a", kind: "device", name: "/dev/sdc", capacity: 2 * Gi, before: 0, after: 2 * Gi },
    ],
    placed: 1,
  };
  t.deepEqual(renderSimulation(sim), [
    "strategy spread: 2 pods onto 2 nodes",
    "  POD    VOLUMES            NODE  VG/DEVICE",
    "  pod-1  10Gi lvm, 2Gi ssd  a     pool-0, /dev/sdc",
    "  pod-2  99Gi lvm           -     fits nowhere: a, b: vg pool-0: need 99Gi, free 90Gi of 100Gi",
    "",
    "  NODE  VG/DEVICE        SIZE   BEFORE  AFTER",
    "  a     pool-0           100Gi  0 (0%)  10Gi (10%)",
    "  a     device /dev/sdc  2Gi    0 (0%)  2Gi (100%)",
    "placed 1 of 2 pods",
  ]);
});
