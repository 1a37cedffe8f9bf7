import test from "ava";
import { Gi, nls } from "@nls/testkit";
import type { NodeUsage } from "./ledger.js";
import { nodeViewFromNls } from "./node-view.js";
import { repackLoose, type LooseClaim } from "./repack.js";

const view = (vgs: Record<string, number>, devices: Record<string, number> = {}) =>
  nodeViewFromNls(
    "n1",
    nls("n1", {
      vgs: Object.entries(vgs).map(([name, gi]) => ({ name, allocatable: gi * Gi })),
      devices: Object.entries(devices).map(([name, gi]) => ({ name, total: gi * Gi })),
    }),
  );
const lvm = (key: string, gi: number): LooseClaim => ({ key, request: { kind: "lvm", claim: key, bytes: gi * Gi } });
const usage = (vg: Record<string, number> = {}, devices: Record<string, string> = {}): NodeUsage => ({
  vg: new Map(Object.entries(vg).map(([k, gi]) => [k, gi * Gi])),
  devices: new Map(Object.entries(devices)),
  unplaced: 0,
  volumes: 0,
});
/** Bytes per VG (and "none" for claims left without one) of a packing, in Gi. */
function perVg(packed: Map<string, { vg?: string; device?: string; bytes: number }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of packed.values()) {
    const where = a.device ?? a.vg ?? "none";
    out[where] = (out[where] ?? 0) + a.bytes / Gi;
  }
  return out;
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

test("loose claims are packed together, whatever order they arrived in", (t) => {
  const claims = [lvm("ns/a", 40), lvm("ns/b", 50), lvm("ns/c", 60), lvm("ns/d", 50)];
  const results = new Set<string>();
  for (const order of permutations(claims)) {
    for (const strategy of ["binpack", "spread"] as const) {
      const packed = repackLoose(view({ "pool-0": 100, "pool-1": 100 }), undefined, order, strategy);
      const vgs = perVg(packed);
      t.deepEqual(
        Object.values(vgs).sort(),
        [100, 100],
        `${order.map((c) => c.key)} ${strategy}: ${JSON.stringify(vgs)}`,
      );
      t.true([...packed.values()].every((a) => a.loose));
      if (strategy === "binpack") results.add(JSON.stringify([...packed].sort()));
    }
  }
  t.is(results.size, 1, "the packing depends on the claims, not on their order");
});

const rows: Array<{
  what: string;
  vgs: Record<string, number>;
  devices?: Record<string, number>;
  base?: NodeUsage;
  claims: LooseClaim[];
  expect: Record<string, number>;
}> = [
  {
    what: "firm usage is packed around",
    vgs: { "pool-0": 100, "pool-1": 100 },
    base: usage({ "pool-0": 70 }),
    claims: [lvm("ns/a", 30), lvm("ns/b", 60), lvm("ns/c", 40)],
    expect: { "pool-0": 30, "pool-1": 100 },
  },
  {
    what: "what does not fit stays on the node without a VG, so the overcommit shows",
    vgs: { "pool-0": 100 },
    claims: [lvm("ns/a", 60), lvm("ns/b", 60), lvm("ns/c", 30)],
    expect: { "pool-0": 90, none: 60 },
  },
  {
    what: "devices: smallest that fits, around taken ones",
    vgs: {},
    devices: { "/dev/vdb": 100, "/dev/vdc": 200, "/dev/vdd": 200 },
    base: usage({}, { "/dev/vdc": "pv:x" }),
    claims: [
      { key: "ns/a", request: { kind: "device", claim: "ns/a", bytes: 150 * Gi } },
      { key: "ns/b", request: { kind: "device", claim: "ns/b", bytes: 50 * Gi } },
    ],
    expect: { "/dev/vdd": 150, "/dev/vdb": 50 },
  },
];
for (const row of rows) {
  test(`repack: ${row.what}`, (t) => {
    const packed = repackLoose(view(row.vgs, row.devices), row.base, row.claims, "binpack");
    t.deepEqual(perVg(packed), row.expect);
    t.deepEqual([...packed.keys()].sort(), row.claims.map((c) => c.key).sort());
  });
}
