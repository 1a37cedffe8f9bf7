import test from "ava";
import { Gi, nls } from "@nls/testkit";
import type { NodeUsage } from "./ledger.js";
import { nodeViewFromNls } from "./node-view.js";
import { overcommittedVgs } from "./overcommit.js";
import { nodeState } from "./placement.js";

const view = nodeViewFromNls(
  "n1",
  nls("n1", {
    vgs: [
      { name: "pool-0", allocatable: 100 * Gi },
      { name: "pool-1", allocatable: 50 * Gi },
    ],
  }),
);
const usage = (vg: Record<string, number>, unplaced = 0): NodeUsage => ({
  vg: new Map(Object.entries(vg).map(([k, v]) => [k, v * Gi])),
  devices: new Map(),
  unplaced: unplaced * Gi,
  volumes: 1,
});

const cases: Array<[string, NodeUsage | undefined, Array<[string, number]>]> = [
  ["nothing committed", undefined, []],
  ["full to the byte is not over", usage({ "pool-0": 100, "pool-1": 50 }), []],
  ["an expansion past the VG", usage({ "pool-0": 120 }), [["pool-0", 20]]],
  [
    "both VGs over",
    usage({ "pool-0": 101, "pool-1": 60 }),
    [
      ["pool-0", 1],
      ["pool-1", 10],
    ],
  ],
  // Bytes without a VG yet are held against the emptiest VG, as placement counts them.
  ["undecided bytes count against the emptiest VG", usage({ "pool-0": 10 }, 100), [["pool-0", 10]]],
];
for (const [title, used, want] of cases) {
  test(`overcommittedVgs: ${title}`, (t) => {
    const over = overcommittedVgs(nodeState(view, used));
    t.deepEqual(
      over.map((o) => [o.vg, o.bytes / Gi]),
      want,
    );
    for (const o of over) t.is(o.committed - o.allocatable, o.bytes);
  });
}
