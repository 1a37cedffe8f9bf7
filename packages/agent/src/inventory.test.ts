import test from "ava";
import {
  buildInventory,
  deviceCondition,
  parseStorageReserved,
  vgAllocatable,
  countsInAllocatable,
  vgCondition,
  type Reservation,
} from "./inventory.js";
import type { DiskCondition } from "@nls/api";
import type { VolumeGroupFacts } from "./discovery/lvm-report.js";
import { disk, emptyFacts, recordedFacts, vgFacts } from "../testing/fake-host.js";

const GiB = 2 ** 30;
const lv = (name: string, size: number, attr = "-wi-a-----") => ({ name, size, attr });
type Lv = ReturnType<typeof lv>;

// [name, LVs, prefix, reservation, want]; the VG is 100Gi and its free space is what the LVs leave.
const allocatableCases: Array<[string, Lv[], string, Reservation | undefined, number]> = [
  ["empty VG", [], "local", undefined, 100 * GiB],
  [
    "managed LVs (prefix and csi-) stay allocatable",
    [lv("local-a", 10 * GiB), lv("csi-b", 5 * GiB)],
    "local",
    undefined,
    100 * GiB,
  ],
  ["unmanaged LVs are subtracted", [lv("root", 30 * GiB), lv("local-a", 10 * GiB)], "local", undefined, 70 * GiB],
  [
    "a custom prefix replaces local but not csi-",
    [lv("local-a", 10 * GiB), lv("csi-b", 5 * GiB), lv("pv-c", 1 * GiB)],
    "pv-",
    undefined,
    90 * GiB,
  ],
  ["empty prefix: only csi- is managed", [lv("local-a", 10 * GiB), lv("csi-b", 5 * GiB)], "", undefined, 90 * GiB],
  ["reserved bytes cap allocatable", [], "local", { bytes: 20 * GiB }, 80 * GiB],
  [
    "reserved and unmanaged: the smaller wins (cap, not sum)",
    [lv("root", 30 * GiB)],
    "local",
    { bytes: 20 * GiB },
    70 * GiB,
  ],
  ["reserved more than unmanaged", [lv("root", 10 * GiB)], "local", { bytes: 20 * GiB }, 80 * GiB],
  ["percent reservation", [], "local", { percent: 10 }, 90 * GiB],
  ["percent rounds the reservation up", [], "local", { percent: 33.3333 }, 100 * GiB - Math.ceil(100 * GiB * 0.333333)],
  ["100% reserved", [], "local", { percent: 100 }, 0],
  ["reserved beyond the VG never goes negative", [], "local", { bytes: 200 * GiB }, 0],
  ["a VG full of unmanaged LVs", [lv("root", 100 * GiB)], "local", undefined, 0],
];
for (const [name, lvs, prefix, reservation, want] of allocatableCases) {
  test(`allocatable: ${name}`, (t) => {
    const free = 100 * GiB - lvs.reduce((sum, l) => sum + l.size, 0);
    t.is(vgAllocatable({ size: 100 * GiB, free }, lvs, prefix, reservation), want);
  });
}

test("allocatable: thin volumes have virtual sizes, hidden LVs still hold extents (synthetic)", (t) => {
  // A 40Gi thin pool (unmanaged) holding a managed 500Gi thin volume, plus a 1Gi pool-metadata spare
  // the report does not list: 59Gi free. A managed thin volume holds no VG extents of its own.
  const lvs = [lv("pool", 40 * GiB, "twi-aotz--"), lv("local-thin", 500 * GiB, "Vwi-aotz--")];
  t.is(vgAllocatable({ size: 100 * GiB, free: 59 * GiB }, lvs, "local"), 59 * GiB);
  // Linear managed LVs next to it count as allocatable again.
  const more = [...lvs, lv("local-lin", 10 * GiB)];
  t.is(vgAllocatable({ size: 100 * GiB, free: 49 * GiB }, more, "local"), 59 * GiB);
  // The status marks exactly the LVs whose extents were added back, for the extender to subtract.
  t.deepEqual(
    more.map((l) => [l.name, countsInAllocatable(l, "local")]),
    [
      ["pool", false],
      ["local-thin", false],
      ["local-lin", true],
    ],
  );
});

const reservedCases: Array<[string, string | undefined, Array<[string, Reservation]>, RegExp[]]> = [
  ["absent", undefined, [], []],
  [
    "quantity and percent",
    `{"pool-0": "10Gi", "pool-1": "25%", "pool-2": 1024}`,
    [
      ["pool-0", { bytes: 10 * GiB }],
      ["pool-1", { percent: 25 }],
      ["pool-2", { bytes: 1024 }],
    ],
    [],
  ],
  [
    "open-local's size forms are binary (go-units RAMInBytes): 10G, 10GB, 10Gi, 10GiB, 512m, 1.5T",
    `{"a": "10G", "b": "10GB", "c": "10Gi", "d": "10GiB", "e": "512m", "f": "1.5T"}`,
    [
      ["a", { bytes: 10 * GiB }],
      ["b", { bytes: 10 * GiB }],
      ["c", { bytes: 10 * GiB }],
      ["d", { bytes: 10 * GiB }],
      ["e", { bytes: 512 * 2 ** 20 }],
      ["f", { bytes: 1.5 * 2 ** 40 }],
    ],
    [],
  ],
  [
    "other quantities follow Kubernetes",
    `{"a": "1e9", "b": "100Mi"}`,
    [
      ["a", { bytes: 1e9 }],
      ["b", { bytes: 100 * 2 ** 20 }],
    ],
    [],
  ],
  ["decimal percent with spaces", `{"a": " 12.5 % "}`, [["a", { percent: 12.5 }]], []],
  [
    "bad entry is skipped, good ones kept",
    `{"a": "10Gi", "b": "lots", "c": "150%"}`,
    [["a", { bytes: 10 * GiB }]],
    [/b: invalid quantity "lots"/, /c: 150% is more than 100%/],
  ],
  ["negative quantity", `{"a": "-1Gi"}`, [], [/must not be negative/]],
  ["not JSON", `pool-0=10Gi`, [], [/is not JSON/]],
  ["not an object", `["10Gi"]`, [], [/must be a JSON object/]],
];
for (const [name, annotation, want, errors] of reservedCases) {
  test(`storage-reserved: ${name}`, (t) => {
    const r = parseStorageReserved(annotation);
    t.deepEqual([...r.reservations], want);
    t.is(r.errors.length, errors.length);
    errors.forEach((re, i) => t.regex(r.errors[i]!, re));
  });
}

const vg = (o: Partial<VolumeGroupFacts>): VolumeGroupFacts =>
  vgFacts("vg", { size: 100, free: 50, extentSize: 4, extentCount: 25, freeCount: 12, ...o });
const vgConditions: Array<[string, VolumeGroupFacts, DiskCondition]> = [
  ["free extents", vg({}), "DiskReady"],
  ["no free extents", vg({ free: 0, freeCount: 0 }), "DiskFull"],
  ["missing PV", vg({ partial: true, attr: "wz-pn-" }), "DiskFault"],
  ["missing PV and full: fault first", vg({ partial: true, free: 0, freeCount: 0 }), "DiskFault"],
];
for (const [name, facts, want] of vgConditions) test(`VG condition: ${name}`, (t) => t.is(vgCondition(facts), want));

const pv = (o: { vgName?: string; free?: number; missing?: boolean }) => ({
  name: "/dev/sdb",
  uuid: "",
  vgName: o.vgName ?? "vg",
  size: 100,
  free: o.free ?? 10,
  devSize: 100,
  attr: "a--",
  missing: o.missing ?? false,
  mdaCount: 1,
});
const deviceConditions: Array<[string, ReturnType<typeof disk>, ReturnType<typeof pv> | undefined, DiskCondition]> = [
  ["plain disk", disk("/dev/sdb"), undefined, "DiskReady"],
  ["read-only", disk("/dev/sdb", { readOnly: true }), undefined, "DiskFault"],
  ["SCSI offline", disk("/dev/sdb", { state: "offline" }), undefined, "DiskFault"],
  ["SCSI running", disk("/dev/sdb", { state: "running" }), undefined, "DiskReady"],
  ["NVMe live", disk("/dev/nvme0n1", { state: "live" }), undefined, "DiskReady"],
  ["PV with free space", disk("/dev/sdb"), pv({}), "DiskReady"],
  ["PV without free space", disk("/dev/sdb"), pv({ free: 0 }), "DiskFull"],
  ["orphan PV (no VG) is not full", disk("/dev/sdb"), pv({ vgName: "", free: 0 }), "DiskReady"],
];
for (const [name, d, p, want] of deviceConditions)
  test(`device condition: ${name}`, (t) => t.is(deviceCondition(d, p), want));

test("inventory: recorded VM state", async (t) => {
  const inv = buildInventory(await recordedFacts(), { lvPrefix: "local" });
  t.deepEqual(
    inv.deviceInfo.map((d) => [d.name, d.mediaType, d.total, d.readOnly, d.condition]),
    [
      ["/dev/loop0", "hdd", 1073741824, false, "DiskReady"],
      ["/dev/loop1", "hdd", 1073741824, false, "DiskReady"],
      ["/dev/loop2", "hdd", 1073741824, false, "DiskReady"],
      ["/dev/loop3", "hdd", 1073741824, false, "DiskReady"],
      ["/dev/loop4", "hdd", 1073741824, false, "DiskReady"],
      ["/dev/loop5", "hdd", 536870912, false, "DiskReady"],
      ["/dev/loop6", "hdd", 536870912, false, "DiskReady"],
      ["/dev/loop7", "hdd", 536870912, false, "DiskReady"],
      ["/dev/vda", "hdd", 274877906944, false, "DiskReady"],
    ],
  );
  t.deepEqual(inv.volumeGroups, [
    {
      name: "nlsrec",
      physicalVolumes: ["/dev/loop2", "/dev/loop3"],
      logicalVolumes: [
        { name: "csi-abc", vgname: "nlsrec", total: 54525952, readOnly: false, condition: "DiskReady", managed: true },
        {
          name: "local-pv1",
          vgname: "nlsrec",
          total: 104857600,
          readOnly: false,
          condition: "DiskReady",
          managed: true,
        },
        { name: "other", vgname: "nlsrec", total: 209715200, readOnly: false, condition: "DiskReady", managed: false },
      ],
      total: 2139095040,
      available: 1769996288,
      // `other` (200Mi) is not managed; csi-abc and local-pv1 are, and `managed` says which.
      allocatable: 2139095040 - 209715200,
      condition: "DiskReady",
      extentSize: 4 * 2 ** 20,
    },
  ]);
  t.deepEqual(inv.problems, []);
});

test("inventory: another host's VG (system ID) is not reported and is named as a problem", (t) => {
  const facts = emptyFacts({
    lvm: {
      vgs: [vg({ name: "mine", systemId: "node-1" }), vg({ name: "theirs", systemId: "other" }), vg({ name: "any" })],
      pvs: [],
      lvs: [],
    },
    lvmSystemId: "node-1",
  });
  const inv = buildInventory(facts, { lvPrefix: "local" });
  t.deepEqual(
    inv.volumeGroups.map((v) => v.name),
    ["mine", "any"],
  );
  t.deepEqual(inv.problems, [
    "VG theirs belongs to system ID other, not this host's (node-1): not reported, never changed",
  ]);
});

test("inventory: reservation applies per VG; one naming an absent VG is a problem", async (t) => {
  const facts = await recordedFacts();
  const inv = buildInventory(facts, { lvPrefix: "local", storageReserved: `{"nlsrec": "50%", "ghost": "1Gi"}` });
  t.is(inv.volumeGroups[0]!.allocatable, 2139095040 / 2);
  t.deepEqual(inv.problems, [
    "annotation csi.aliyun.com/storage-reserved names VG ghost, which does not exist on this node",
  ]);
});

test("inventory: partial VG faults its LVs; mount points carry their conditions", (t) => {
  const facts = emptyFacts({
    lvm: {
      vgs: [vg({ name: "p", partial: true })],
      pvs: [],
      lvs: [
        {
          name: "local-1",
          vgName: "p",
          uuid: "",
          size: 8,
          attr: "-wi-------",
          path: "",
          readOnly: false,
          faulty: false,
        },
      ],
    },
    mountPoints: [
      {
        path: "/mnt/open-local/d1",
        majMin: "8:1",
        root: "/",
        fsType: "ext4",
        source: "/dev/sdb1",
        options: ["rw"],
        readOnly: false,
        total: 100,
        available: 40,
      },
      {
        path: "/mnt/open-local/d2",
        majMin: "8:2",
        root: "/sub",
        fsType: "xfs",
        source: "/dev/sdb2",
        options: ["ro"],
        readOnly: true,
        total: 100,
        available: 40,
      },
      {
        path: "/mnt/open-local/d3",
        majMin: "8:3",
        root: "/",
        fsType: "ext4",
        source: "/dev/sdb3",
        options: ["rw"],
        readOnly: false,
        total: 100,
        available: 0,
      },
      {
        path: "/mnt/open-local/d4",
        majMin: "8:4",
        root: "/",
        fsType: "ext4",
        source: "/dev/sdb4",
        options: ["rw"],
        readOnly: false,
        total: 0,
        available: 0,
        statError: "EIO",
      },
    ],
  });
  const inv = buildInventory(facts, { lvPrefix: "local" });
  t.is(inv.volumeGroups[0]!.condition, "DiskFault");
  t.is(inv.volumeGroups[0]!.logicalVolumes[0]!.condition, "DiskFault");
  t.deepEqual(
    inv.mountPoints.map((m) => [m.name, m.isBind, m.device, m.condition]),
    [
      ["/mnt/open-local/d1", false, "/dev/sdb1", "DiskReady"],
      ["/mnt/open-local/d2", true, "/dev/sdb2", "DiskFault"],
      ["/mnt/open-local/d3", false, "/dev/sdb3", "DiskFull"],
      ["/mnt/open-local/d4", false, "/dev/sdb4", "DiskFault"],
    ],
  );
});
