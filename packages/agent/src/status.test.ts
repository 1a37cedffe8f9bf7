import test from "ava";
import type { NodeLocalStorageStatus } from "@nls/api";
import { kubeTime, stampStatus, statusChanged } from "./status.js";

const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:01:00Z";
const NOW = new Date("2026-01-01T00:05:00.123Z");

function status(
  over: {
    vgAvail?: number;
    state?: string;
    heartbeat?: string;
    transition?: string;
    update?: string;
    vgs?: string[];
    reason?: string;
  } = {},
): NodeLocalStorageStatus {
  return {
    nodeStorageInfo: {
      deviceInfo: [{ name: "/dev/vdb", mediaType: "ssd", total: 1000, readOnly: false, condition: "DiskReady" }],
      volumeGroups: [
        {
          name: "pool0",
          physicalVolumes: ["/dev/vdb"],
          logicalVolumes: [],
          total: 1000,
          available: over.vgAvail ?? 1000,
          allocatable: 1000,
          condition: "DiskReady",
        },
      ],
      phase: "Running",
      state: {
        type: over.state ?? "DiskReady",
        status: "True",
        lastHeartbeatTime: over.heartbeat ?? T0,
        lastTransitionTime: over.transition ?? T0,
      },
    },
    filteredStorageInfo: {
      volumeGroups: over.vgs ?? ["pool0"],
      devices: [],
      mountPoints: [],
      updateStatusInfo: { updateStatus: "accepted", lastUpdateTime: over.update ?? T0, reason: over.reason },
    },
  };
}

function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, reverseKeys(x)]),
    );
  return v;
}

function withoutReason(s: NodeLocalStorageStatus): NodeLocalStorageStatus {
  delete s.filteredStorageInfo?.updateStatusInfo?.reason;
  return s;
}

const changedCases: {
  name: string;
  prev: NodeLocalStorageStatus | undefined;
  next: NodeLocalStorageStatus;
  changed: boolean;
}[] = [
  { name: "identical", prev: status(), next: status(), changed: false },
  { name: "only heartbeat differs", prev: status(), next: status({ heartbeat: T1 }), changed: false },
  { name: "only transition time differs", prev: status(), next: status({ transition: T1 }), changed: false },
  { name: "only lastUpdateTime differs", prev: status(), next: status({ update: T1 }), changed: false },
  {
    name: "all timestamps differ",
    prev: status(),
    next: status({ heartbeat: T1, transition: T1, update: T1 }),
    changed: false,
  },
  {
    name: "undefined field equals absent field",
    prev: status({ reason: undefined }),
    next: withoutReason(status()),
    changed: false,
  },
  {
    name: "key order is irrelevant",
    prev: status(),
    next: reverseKeys(status()) as NodeLocalStorageStatus,
    changed: false,
  },
  { name: "VG available changed", prev: status(), next: status({ vgAvail: 10 }), changed: true },
  { name: "state type changed", prev: status(), next: status({ state: "DiskFull" }), changed: true },
  { name: "selection changed", prev: status(), next: status({ vgs: [] }), changed: true },
  {
    name: "selection order changed",
    prev: status({ vgs: ["a", "b"] }),
    next: status({ vgs: ["b", "a"] }),
    changed: true,
  },
  { name: "reason added", prev: status(), next: status({ reason: "bad pattern" }), changed: true },
  { name: "no previous status", prev: undefined, next: status(), changed: true },
  { name: "empty previous status", prev: {}, next: status(), changed: true },
  { name: "both empty", prev: undefined, next: {}, changed: false },
];

for (const c of changedCases) {
  test(`statusChanged: ${c.name}`, (t) => {
    t.is(statusChanged(c.prev, c.next), c.changed);
  });
}

test("stampStatus: unchanged content carries every timestamp forward, so nothing needs writing", (t) => {
  const prev = status();
  const out = stampStatus(prev, status({ heartbeat: T1, transition: T1, update: T1 }), NOW);
  t.deepEqual(out, prev);
});

test("stampStatus: content change without state change moves the heartbeat only", (t) => {
  const out = stampStatus(status(), status({ vgAvail: 5, heartbeat: T1, transition: T1, update: T1 }), NOW);
  t.is(out.nodeStorageInfo?.state?.lastHeartbeatTime, "2026-01-01T00:05:00Z");
  t.is(out.nodeStorageInfo?.state?.lastTransitionTime, T0);
  t.is(out.filteredStorageInfo?.updateStatusInfo?.lastUpdateTime, T0);
  t.is(out.nodeStorageInfo?.volumeGroups?.[0]?.available, 5);
});

test("stampStatus: a state change sets the transition time", (t) => {
  const out = stampStatus(status(), status({ state: "DiskFull" }), NOW);
  t.is(out.nodeStorageInfo?.state?.lastTransitionTime, kubeTime(NOW));
  t.is(out.nodeStorageInfo?.state?.lastHeartbeatTime, kubeTime(NOW));
});

test("stampStatus: a selection change sets lastUpdateTime", (t) => {
  const out = stampStatus(status(), status({ vgs: [] }), NOW);
  t.is(out.filteredStorageInfo?.updateStatusInfo?.lastUpdateTime, kubeTime(NOW));
  t.is(out.nodeStorageInfo?.state?.lastTransitionTime, T0);
});

test("stampStatus: first status gets now everywhere and does not mutate its input", (t) => {
  const next = status({ heartbeat: T1, transition: T1, update: T1 });
  const out = stampStatus(undefined, next, NOW);
  t.is(out.nodeStorageInfo?.state?.lastHeartbeatTime, kubeTime(NOW));
  t.is(out.nodeStorageInfo?.state?.lastTransitionTime, kubeTime(NOW));
  t.is(out.filteredStorageInfo?.updateStatusInfo?.lastUpdateTime, kubeTime(NOW));
  t.is(next.nodeStorageInfo?.state?.lastHeartbeatTime, T1);
});

test("kubeTime drops fractional seconds", (t) => {
  t.is(kubeTime(new Date("2026-03-04T05:06:07.890Z")), "2026-03-04T05:06:07Z");
});

function withMount(available: number, total = 100_000, name = "/mnt/open-local/a"): NodeLocalStorageStatus {
  const s = status();
  s.nodeStorageInfo!.mountPoints = [
    {
      name,
      total,
      available,
      fsType: "ext4",
      isBind: false,
      options: ["rw"],
      device: "/dev/vdc",
      readOnly: false,
      condition: "DiskReady",
    },
  ];
  return s;
}

const mountCases: {
  name: string;
  prev: NodeLocalStorageStatus;
  next: NodeLocalStorageStatus;
  available: number;
  changed: boolean;
}[] = [
  {
    name: "drift below 1% of the size keeps the stored value",
    prev: withMount(50_000),
    next: withMount(50_999),
    available: 50_000,
    changed: false,
  },
  {
    name: "drift down below 1% too",
    prev: withMount(50_000),
    next: withMount(49_001),
    available: 50_000,
    changed: false,
  },
  {
    name: "a move of 1% or more is reported",
    prev: withMount(50_000),
    next: withMount(51_000),
    available: 51_000,
    changed: true,
  },
  {
    name: "a new size is reported exactly",
    prev: withMount(50_000),
    next: withMount(50_001, 100_001),
    available: 50_001,
    changed: true,
  },
  {
    name: "a new mount point is reported exactly",
    prev: withMount(50_000),
    next: withMount(50_001, 100_000, "/mnt/open-local/b"),
    available: 50_001,
    changed: true,
  },
];
for (const c of mountCases) {
  test(`stampStatus, mount point usage: ${c.name}`, (t) => {
    const out = stampStatus(c.prev, c.next, NOW);
    t.is(out.nodeStorageInfo?.mountPoints?.[0]?.available, c.available);
    t.is(statusChanged(c.prev, out), c.changed);
  });
}
