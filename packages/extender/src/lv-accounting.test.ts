import test from "ava";
import { chargeLvs, lvLedgerKey, lvOfLedgerKey, type LvCharge, type LvExplanation } from "./lv-accounting.js";
import type { NodeLv } from "./node-view.js";

const MiB = 2 ** 20;
const lv = (name: string, mib: number, vg = "pool-0"): NodeLv => ({ name, vg, bytes: mib * MiB });

const cases: Array<{
  title: string;
  lvs: NodeLv[];
  explanations: Record<string, LvExplanation>;
  want: LvCharge[];
}> = [
  {
    title: "an LV its PV accounts for in full is not charged",
    lvs: [lv("local-a", 1024)],
    explanations: { "local-a": { by: "pv local-a", bytes: 1024 * MiB, vg: "pool-0" } },
    want: [],
  },
  {
    title: "an LV the claim it is being made for accounts for (no PV yet) is not charged",
    lvs: [lv("local-b", 1024)],
    explanations: { "local-b": { by: "ns/data-0", bytes: 1024 * MiB, vg: "pool-0" } },
    want: [],
  },
  {
    title: "an LV nothing accounts for (a Retain PV deleted, a failed provisioning) is charged whole",
    lvs: [lv("local-orphan", 3072)],
    explanations: {},
    want: [{ lv: "local-orphan", vg: "pool-0", bytes: 3072 * MiB, why: "unexplained" }],
  },
  {
    title: "an LV larger than its PV counts (32 MiB extents, or grown by hand) is charged the difference",
    lvs: [lv("local-c", 128)],
    explanations: { "local-c": { by: "pv local-c", bytes: 104 * MiB, vg: "pool-0" } },
    want: [{ lv: "local-c", vg: "pool-0", bytes: 24 * MiB, why: "excess", explainedBy: "pv local-c" }],
  },
  {
    title: "an LV smaller than its PV counts is not charged (the ledger counts more, never less)",
    lvs: [lv("local-d", 101)],
    explanations: { "local-d": { by: "pv local-d", bytes: 104 * MiB, vg: "pool-0" } },
    want: [],
  },
  {
    title: "an explanation counted in another VG does not explain the LV: charged whole",
    lvs: [lv("local-e", 512, "pool-1")],
    explanations: { "local-e": { by: "ns/e", bytes: 512 * MiB, vg: "pool-0" } },
    want: [{ lv: "local-e", vg: "pool-1", bytes: 512 * MiB, why: "unexplained" }],
  },
  {
    title: "an explanation whose VG is not decided yet explains the LV (its bytes count on the node)",
    lvs: [lv("local-f", 512, "pool-1")],
    explanations: { "local-f": { by: "ns/f", bytes: 512 * MiB } },
    want: [],
  },
  {
    title: "an empty LV charges nothing",
    lvs: [lv("local-g", 0)],
    explanations: {},
    want: [],
  },
  {
    title: "several LVs: each on its own",
    lvs: [lv("local-a", 100), lv("local-x", 200), lv("local-y", 300, "pool-1")],
    explanations: { "local-a": { by: "pv local-a", bytes: 100 * MiB, vg: "pool-0" } },
    want: [
      { lv: "local-x", vg: "pool-0", bytes: 200 * MiB, why: "unexplained" },
      { lv: "local-y", vg: "pool-1", bytes: 300 * MiB, why: "unexplained" },
    ],
  },
];

for (const c of cases) {
  test(`chargeLvs: ${c.title}`, (t) => {
    t.deepEqual(
      chargeLvs(c.lvs, (l) => c.explanations[l.name]),
      c.want,
    );
  });
}

test("an LV's ledger key names its node, VG and LV, and reads back", (t) => {
  const key = lvLedgerKey("node-1.example", "pool-0", "local-x");
  t.is(key, "lv:node-1.example/pool-0/local-x");
  t.deepEqual(lvOfLedgerKey(key), { node: "node-1.example", vg: "pool-0", lv: "local-x" });
  t.is(lvOfLedgerKey("pv:local-x"), undefined);
  t.is(lvOfLedgerKey("ns/data-0"), undefined);
});
