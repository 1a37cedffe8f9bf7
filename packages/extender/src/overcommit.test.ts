import test from "ava";
import { Gi } from "@nls/testkit";
import type { NodeUsage } from "./ledger.js";
import { overcommittedVgs } from "./overcommit.js";
import { nodeState } from "./placement.js";
import { twoVgs as view, usage as usageGi } from "../testing/node-usage.js";

const usage = (vg: Record<string, number>, unplaced = 0): NodeUsage => usageGi(vg, [], unplaced);

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
