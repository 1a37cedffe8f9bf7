import test from "ava";
import { Gi, nls } from "@nls/testkit";
import type { NodeUsage } from "./ledger.js";
import { nodeViewFromNls } from "./node-view.js";
import { nodeState, Placer } from "./placement.js";
import type { Strategy } from "./scoring.js";
import type { VolumeRequest } from "./request.js";
import { twoVgs, usage } from "../testing/node-usage.js";

const lvm = (claim: string, gi: number, vgName?: string): VolumeRequest => ({
  kind: "lvm",
  claim,
  bytes: gi * Gi,
  vgName,
});
const dev = (claim: string, gi: number, mediaType?: string): VolumeRequest => ({
  kind: "device",
  claim,
  bytes: gi * Gi,
  mediaType,
});
const sorted = (rs: VolumeRequest[]) => [...rs].sort((a, b) => b.bytes - a.bytes);

const cases: Array<{
  title: string;
  requests: VolumeRequest[];
  used?: NodeUsage;
  strategy?: Strategy;
  expect: Array<string> | { reason: string };
}> = [
  { title: "binpack puts one volume in the tightest VG that fits", requests: [lvm("a", 40)], expect: ["pool-1"] },
  { title: "spread puts it in the emptiest", requests: [lvm("a", 40)], strategy: "spread", expect: ["pool-0"] },
  {
    title: "vgName is honoured even when another VG is tighter",
    requests: [lvm("a", 10, "pool-0")],
    expect: ["pool-0"],
  },
  {
    title: "committed bytes are subtracted",
    requests: [lvm("a", 40)],
    used: usage({ "pool-1": 20 }),
    expect: ["pool-0"],
  },
  {
    // VGs with equal free bytes are not interchangeable when a later volume names one of them: greedy
    // puts the loose volume in pool-0, and the search must try pool-1 instead (found by an e2e burst).
    title: "a loose volume steps aside for a volume that names the VG, at equal free bytes",
    requests: [lvm("a", 10), lvm("b", 10, "pool-0")],
    used: usage({ "pool-0": 90, "pool-1": 40 }),
    expect: ["pool-1", "pool-0"],
  },
  {
    title: "named VG too full gives the operator's reason",
    requests: [lvm("a", 30, "pool-0")],
    used: usage({ "pool-0": 88 }),
    expect: { reason: "vg pool-0: need 30Gi, free 12Gi of 100Gi" },
  },
  {
    title: "unknown vgName fails with the selected list",
    requests: [lvm("a", 1, "pool-9")],
    expect: { reason: "vg pool-9 is not selected on this node (selected: pool-0, pool-1)" },
  },
  {
    title: "a volume larger than every VG lists each VG",
    requests: [lvm("a", 120)],
    expect: { reason: "vg pool-0: need 120Gi, free 100Gi of 100Gi; vg pool-1: need 120Gi, free 50Gi of 50Gi" },
  },
  {
    title: "volumes that fit one by one but not together",
    requests: sorted([lvm("a", 60), lvm("b", 60), lvm("c", 25)]),
    expect: {
      reason:
        "cannot place 3 volumes (60Gi, 60Gi, 25Gi; 145Gi in total) into vgs pool-0 free 100Gi of 100Gi, pool-1 free 50Gi of 50Gi",
    },
  },
  {
    title: "unplaced bytes are held against the emptiest VG",
    requests: [lvm("a", 60)],
    used: usage({}, [], 50),
    expect: { reason: "vg pool-0: need 60Gi, free 50Gi of 100Gi; vg pool-1: need 60Gi, free 50Gi of 50Gi" },
  },
];

for (const c of cases) {
  test(`place: ${c.title}`, (t) => {
    const p = new Placer(c.requests, c.strategy ?? "binpack");
    const ok = p.place(nodeState(twoVgs, c.used));
    if (Array.isArray(c.expect)) {
      t.true(ok);
      t.deepEqual(
        p.placements().map((a) => a.vg),
        c.expect,
      );
    } else {
      t.false(ok);
      t.is(p.explain(), c.expect.reason);
    }
  });
}

/** Best-fit decreasing, one pass: what a greedy extender does. */
function greedy(capacities: number[], sizes: number[]): boolean {
  const free = [...capacities];
  for (const s of [...sizes].sort((a, b) => b - a)) {
    let best = -1;
    for (let i = 0; i < free.length; i++) if (free[i]! >= s && (best < 0 || free[i]! < free[best]!)) best = i;
    if (best < 0) return false;
    free[best]! -= s;
  }
  return true;
}

test("place: finds a packing that a greedy pass misses", (t) => {
  const view = nodeViewFromNls(
    "n1",
    nls("n1", {
      vgs: [
        { name: "a", allocatable: 11 * Gi },
        { name: "b", allocatable: 11 * Gi },
      ],
    }),
  );
  const sizes = [5, 4, 4, 3, 3, 3];
  t.false(greedy([11, 11], sizes), "the case must defeat greedy best-fit decreasing");
  const p = new Placer(sorted(sizes.map((s, i) => lvm(`c${i}`, s))), "binpack");
  t.true(p.place(nodeState(view, undefined)));
  const perVg = new Map<string, number>();
  for (const a of p.placements()) perVg.set(a.vg!, (perVg.get(a.vg!) ?? 0) + a.bytes);
  t.deepEqual([...perVg.values()].sort(), [11 * Gi, 11 * Gi]);
});

test("place: beyond the exact limit the heuristic still packs an easy case", (t) => {
  const view = nodeViewFromNls("n1", nls("n1", { vgs: [{ name: "a", allocatable: 100 * Gi }] }));
  const p = new Placer(
    Array.from({ length: 12 }, (_, i) => lvm(`c${i}`, 8)),
    "binpack",
  );
  t.true(p.place(nodeState(view, undefined)));
  t.false(
    new Placer(
      Array.from({ length: 13 }, (_, i) => lvm(`c${i}`, 8)),
      "binpack",
    ).place(nodeState(view, undefined)),
  );
});

const devices = nodeViewFromNls(
  "n1",
  nls("n1", {
    devices: [
      { name: "/dev/vdb", total: 200 * Gi, mediaType: "hdd" },
      { name: "/dev/vdc", total: 100 * Gi, mediaType: "ssd" },
      { name: "/dev/vdd", total: 500 * Gi, mediaType: "ssd" },
      { name: "/dev/vde", total: 50 * Gi, mediaType: "ssd" },
    ],
  }),
);

const deviceCases: Array<{ title: string; requests: VolumeRequest[]; taken?: string[]; expect: string[] | string }> = [
  { title: "smallest ssd that fits", requests: [dev("a", 60, "ssd")], expect: ["/dev/vdc"] },
  { title: "mediaType hdd", requests: [dev("a", 60, "hdd")], expect: ["/dev/vdb"] },
  { title: "no mediaType: smallest of any type", requests: [dev("a", 150)], expect: ["/dev/vdb"] },
  { title: "taken devices are skipped", requests: [dev("a", 60, "ssd")], taken: ["/dev/vdc"], expect: ["/dev/vdd"] },
  {
    title: "two volumes take two devices",
    requests: [dev("a", 90, "ssd"), dev("b", 60, "ssd")],
    expect: ["/dev/vdc", "/dev/vdd"],
  },
  {
    title: "typed volume keeps the device an untyped one would have taken",
    requests: [dev("a", 150), dev("b", 120, "hdd")],
    expect: ["/dev/vdd", "/dev/vdb"],
  },
  {
    title: "nothing fits",
    requests: [dev("a", 600, "ssd")],
    taken: ["/dev/vde"],
    expect:
      "no free devices for ssd ≥ 600Gi (free devices: /dev/vdc ssd 100Gi, /dev/vdb hdd 200Gi, /dev/vdd ssd 500Gi)",
  },
];

// Mount points on their own disks (not selected as devices), and one selected device.
const mixed = nodeViewFromNls(
  "n1",
  nls("n1", {
    devices: [
      { name: "/dev/vdb", total: 200 * Gi, mediaType: "hdd" },
      { name: "/dev/vdc", total: 100 * Gi, mediaType: "ssd" },
      { name: "/dev/vdd", total: 300 * Gi, mediaType: "ssd" },
      { name: "/dev/vde", total: 80 * Gi, mediaType: "ssd" },
    ],
    selectedDevices: ["/dev/vde"],
    mountPoints: [
      { name: "/mnt/open-local/hdd-0", total: 200 * Gi, device: "/dev/vdb" },
      { name: "/mnt/open-local/ssd-0", total: 100 * Gi, device: "/dev/vdc" },
      { name: "/mnt/open-local/ssd-1", total: 300 * Gi, device: "/dev/vdd" },
    ],
  }),
);
const mp = (claim: string, gi: number, mediaType?: string): VolumeRequest => ({
  kind: "mountpoint",
  claim,
  bytes: gi * Gi,
  mediaType,
});

const mountPointCases: Array<{
  title: string;
  requests: VolumeRequest[];
  taken?: string[];
  expect: string[] | string;
}> = [
  {
    title: "the smallest mount point that fits, its media type its device's",
    requests: [mp("a", 60, "ssd")],
    expect: ["/mnt/open-local/ssd-0"],
  },
  { title: "hdd", requests: [mp("a", 60, "hdd")], expect: ["/mnt/open-local/hdd-0"] },
  {
    title: "a mount point volume never takes a device, even a smaller one that fits",
    requests: [mp("a", 50)],
    expect: ["/mnt/open-local/ssd-0"],
  },
  {
    title: "a device volume never takes a mount point",
    requests: [dev("a", 90)],
    expect: "no free devices for any ≥ 90Gi (free devices: /dev/vde ssd 80Gi)",
  },
  {
    title: "taken mount points are skipped",
    requests: [mp("a", 60, "ssd")],
    taken: ["/mnt/open-local/ssd-0"],
    expect: ["/mnt/open-local/ssd-1"],
  },
  {
    title: "a pod with both kinds gets one of each",
    requests: [mp("a", 90, "ssd"), dev("b", 70)],
    expect: ["/mnt/open-local/ssd-0", "/dev/vde"],
  },
  {
    title: "nothing fits: the free mount points are listed",
    requests: [mp("a", 250, "ssd")],
    taken: ["/mnt/open-local/ssd-1"],
    expect:
      "no free mount points for ssd ≥ 250Gi (free mount points: /mnt/open-local/ssd-0 ssd 100Gi, /mnt/open-local/hdd-0 hdd 200Gi)",
  },
];

for (const [kind, view, table] of [
  ["device", devices, deviceCases],
  ["mount point", mixed, mountPointCases],
] as const) {
  for (const c of table) {
    test(`${kind}: ${c.title}`, (t) => {
      const p = new Placer(c.requests, "binpack");
      const ok = p.place(nodeState(view, usage({}, c.taken ?? [])));
      if (Array.isArray(c.expect)) {
        t.true(ok);
        t.deepEqual(
          p.placements().map((a) => a.device ?? a.mountPoint),
          c.expect,
        );
      } else {
        t.false(ok);
        t.is(p.explain(), c.expect);
      }
    });
  }
}

test("a placement names a mount point as mountPoint and a device as device", (t) => {
  const p = new Placer([mp("a", 90, "ssd"), dev("b", 70)], "binpack");
  t.true(p.place(nodeState(mixed, undefined)));
  t.deepEqual(p.placements(), [
    { node: "n1", mountPoint: "/mnt/open-local/ssd-0", bytes: 90 * Gi },
    { node: "n1", device: "/dev/vde", bytes: 70 * Gi },
  ]);
});

test("utilisation of a mount point volume counts the mount points only, not the devices", (t) => {
  const p = new Placer([mp("a", 60, "ssd")], "binpack");
  t.true(p.place(nodeState(mixed, usage({}, ["/mnt/open-local/hdd-0"]))));
  // capacity: 200 + 100 + 300 (mount points); used: hdd-0 (taken) + ssd-0 (this volume).
  t.deepEqual(p.utilisationAfter(), { used: 300 * Gi, capacity: 600 * Gi });
});

test("place: a pod's own reservation is credited back on its node", (t) => {
  const credit = new Map([["n1", [{ node: "n1", vg: "pool-1", bytes: 40 * Gi }]]]);
  const used = usage({ "pool-1": 40, "pool-0": 100 });
  t.false(new Placer([lvm("a", 40)], "binpack").place(nodeState(twoVgs, used)));
  t.true(new Placer([lvm("a", 40)], "binpack", credit).place(nodeState(twoVgs, used)));
});

test("utilisation after placing counts the pod", (t) => {
  const p = new Placer([lvm("a", 30)], "binpack");
  t.true(p.place(nodeState(twoVgs, usage({ "pool-0": 20 }))));
  t.deepEqual(p.utilisationAfter(), { used: 50 * Gi, capacity: 150 * Gi });
});

test("assess: pods of one shape reuse the answer on an unchanged node, whatever their claim names", (t) => {
  const state = nodeState(twoVgs, usage({}));
  const first = new Placer([lvm("ns/a-0", 60)], "binpack").assess(state);
  t.like(first, { fits: true });
  const second = new Placer([lvm("ns/b-7", 60)], "binpack").assess(state);
  t.is(second, first, "the memoised assessment itself");
  // Another strategy, or another shape, is assessed afresh against the same state.
  const spread = new Placer([lvm("ns/a-0", 60)], "spread").assess(state);
  t.not(spread, first);
  t.not(spread.preference, first.preference);
  const bigger = new Placer([lvm("ns/a-0", 61)], "spread").assess(state);
  t.not(bigger, spread);
  t.is(state.memo, bigger);
});

test("assess: a node whose usage changed is judged on its new state, never from the old memo", (t) => {
  const before = nodeState(twoVgs, usage({}));
  t.true(new Placer([lvm("ns/a", 60)], "binpack").assess(before).fits);
  const after = nodeState(twoVgs, usage({ "pool-0": 50 }));
  const again = new Placer([lvm("ns/b", 60)], "binpack").assess(after);
  t.false(again.fits);
  t.regex(again.reason, /need 60Gi, free 50Gi of 100Gi/);
});

test("assess: the pod's own reservation is credited and never memoised for others", (t) => {
  // 90Gi of pool-0 is held by this pod's own tentative reservation.
  const state = nodeState(twoVgs, usage({ "pool-0": 90 }));
  const own = new Placer(
    [lvm("ns/a", 80)],
    "binpack",
    new Map([["n1", [{ node: "n1", vg: "pool-0", bytes: 90 * Gi }]]]),
  );
  t.true(own.assess(state).fits);
  t.is(state.memo, undefined);
  const other = new Placer([lvm("ns/b", 80)], "binpack").assess(state);
  t.false(other.fits);
});

const MiB = 2 ** 20;
/** pool-4m: 4 MiB extents (the status says so), pool-32m: 32 MiB, pool-1m: 1 MiB; each 1 GiB. */
const extents = nodeViewFromNls(
  "n1",
  nls("n1", {
    vgs: [
      { name: "pool-1m", allocatable: 1024 * MiB, extentSize: MiB },
      { name: "pool-32m", allocatable: 1024 * MiB, extentSize: 32 * MiB },
      { name: "pool-4m", allocatable: 1024 * MiB },
    ],
  }),
);
const lvmBytesReq = (claim: string, bytes: number, vgName?: string): VolumeRequest => ({
  kind: "lvm",
  claim,
  bytes,
  vgName,
});

const extentCases: Array<{ title: string; requests: VolumeRequest[]; want: Array<[string, number]> | string }> = [
  {
    title: "a volume takes whole extents of the VG it goes to",
    requests: [lvmBytesReq("a", 100 * MiB + 1, "pool-32m")],
    want: [["pool-32m", 128 * MiB]],
  },
  {
    title: "the same request takes fewer bytes in a VG of smaller extents",
    requests: [lvmBytesReq("a", 100 * MiB + 1, "pool-1m")],
    want: [["pool-1m", 101 * MiB]],
  },
  {
    title: "a status without extentSize is read as 4 MiB extents",
    requests: [lvmBytesReq("a", 100 * MiB + 1, "pool-4m")],
    want: [["pool-4m", 104 * MiB]],
  },
  {
    // 33 × 31 MiB: 1023 MiB of bytes, and 1023 extents of 1 MiB; 33 extents of 32 MiB are 1056 MiB.
    title: "volumes that fit byte by byte but not in the VG's whole extents are refused there",
    requests: Array.from({ length: 33 }, (_, i) => lvmBytesReq(`v${i}`, 31 * MiB, "pool-32m")),
    want: "vg pool-32m: need 1.03Gi, free 1Gi of 1Gi",
  },
  {
    title: "the same volumes fit a VG of 1 MiB extents",
    requests: Array.from({ length: 33 }, (_, i) => lvmBytesReq(`v${i}`, 31 * MiB, "pool-1m")),
    want: Array.from({ length: 33 }, () => ["pool-1m", 31 * MiB] as [string, number]),
  },
];
for (const c of extentCases) {
  test(`place, extents: ${c.title}`, (t) => {
    const p = new Placer(c.requests, "binpack");
    const ok = p.place(nodeState(extents, undefined));
    if (typeof c.want === "string") {
      t.false(ok);
      t.is(p.explain(), c.want);
    } else {
      t.true(ok);
      t.deepEqual(
        p.placements().map((a) => [a.vg, a.bytes]),
        c.want,
      );
    }
  });
}

test("place, extents: binpack judges each VG by what the volume takes there", (t) => {
  // 1000 MiB + 1 byte: 1001 MiB in pool-1m, 1024 MiB (all of it) in pool-32m, 1004 MiB in pool-4m.
  const used = { vg: new Map([["pool-1m", 24 * MiB]]), devices: new Map(), unplaced: 0, volumes: 1 };
  const p = new Placer([lvmBytesReq("a", 1000 * MiB + 1)], "binpack");
  t.true(p.place(nodeState(extents, used)));
  t.deepEqual(
    p.placements().map((a) => [a.vg, a.bytes]),
    [["pool-32m", 1024 * MiB]],
  );
  t.deepEqual(p.utilisationAfter(), { used: 24 * MiB + 1024 * MiB, capacity: 3 * 1024 * MiB });
});

test("a pod's shape names its strategy and requests, whatever how many shapes came before", (t) => {
  const shapeOf = (gi: number, strategy: Strategy = "binpack") =>
    new Placer([{ kind: "lvm", claim: `ns/c${gi}`, bytes: gi * Gi }], strategy).shape;
  t.is(shapeOf(1), `binpack|lvm:${Gi}:`);
  t.is(shapeOf(1, "spread"), `spread|lvm:${Gi}:`);
  // More shapes than the table keeps: it starts over, and every shape is still its own.
  const wrong = [];
  for (let gi = 2; gi <= 3000; gi++) if (shapeOf(gi) !== `binpack|lvm:${gi * Gi}:`) wrong.push(gi);
  t.deepEqual(wrong, []);
  t.is(shapeOf(1), `binpack|lvm:${Gi}:`);
  t.not(shapeOf(1), shapeOf(2));
});
