import test from "ava";
import { buildStatus } from "./report.js";
import { emptyFacts, recordedFacts } from "../testing/fake-host.js";

const now = new Date("2026-11-23T18:00:00Z");
const later = new Date("2026-11-23T18:01:00Z");

test("status: recorded host, listConfig selects sorted devices and VGs, offers only free devices, summary over the selection", async (t) => {
  const facts = await recordedFacts();
  const status = buildStatus(
    facts,
    {
      spec: {
        listConfig: {
          devices: { include: ["/dev/loop[0-9]+"], exclude: ["/dev/loop0"] },
          vgs: { include: ["nls.*"] },
          mountPoints: { include: [".*"] },
        },
      },
    },
    { lvPrefix: "local", now },
  );
  // loop1..loop4 are selected but hold a partition table or a PV label: never offered, each with why.
  t.deepEqual(status.filteredStorageInfo, {
    volumeGroups: ["nlsrec"],
    devices: ["/dev/loop5", "/dev/loop6", "/dev/loop7"],
    mountPoints: [],
    updateStatusInfo: { lastUpdateTime: now.toISOString(), updateStatus: "accepted" },
  });
  t.deepEqual(status.summary, {
    volumeGroups: 1,
    devices: 3,
    devicesInUse:
      "/dev/loop1 (carries partition table dos at offset 0x1fe), /dev/loop2 (is a physical volume of VG nlsrec), " +
      "/dev/loop3 (is a physical volume of VG nlsrec), /dev/loop4 (is already an LVM physical volume)",
    allocatable: "1840Mi",
    allocatableBytes: 2139095040 - 209715200,
    // allocatable minus the managed LVs csi-abc (52Mi) and local-pv1 (100Mi); the LV "other" is not nls'
    free: "1688Mi",
    freeBytes: 2139095040 - 209715200 - 54525952 - 104857600,
  });
  const info = Object.fromEntries(status.nodeStorageInfo!.deviceInfo!.map((d) => [d.name, d.inUse]));
  t.deepEqual(info["/dev/loop0"], ["is mounted at /tmp/nlsrec/mnt/open-local/a"], "not selected, still explained");
  t.deepEqual(info["/dev/loop2"], ["is a physical volume of VG nlsrec"]);
  t.is(info["/dev/loop5"], undefined, "free: no inUse field at all");
  t.is(status.nodeStorageInfo!.phase, "Running");
  t.deepEqual(status.nodeStorageInfo!.state, {
    type: "DiskReady",
    status: "True",
    lastHeartbeatTime: now.toISOString(),
    lastTransitionTime: now.toISOString(),
    reason: "Ready",
  });
});

test("status: no listConfig selects nothing, allocatable 0", async (t) => {
  const status = buildStatus(await recordedFacts(), {}, { lvPrefix: "local", now });
  t.deepEqual(status.summary, {
    volumeGroups: 0,
    devices: 0,
    allocatable: "0",
    allocatableBytes: 0,
    free: "0",
    freeBytes: 0,
  });
  t.is(status.filteredStorageInfo!.updateStatusInfo!.updateStatus, "accepted");
});

test("status: an invalid pattern fails the update with the pattern and the RE2 error, the rest still works", async (t) => {
  const status = buildStatus(
    await recordedFacts(),
    { spec: { listConfig: { vgs: { include: ["nlsrec", "(unclosed"] }, devices: { include: ["/dev/loop5"] } } } },
    { lvPrefix: "local", now },
  );
  const info = status.filteredStorageInfo!;
  t.is(info.updateStatusInfo!.updateStatus, "failed");
  t.regex(
    info.updateStatusInfo!.reason!,
    /listConfig\.vgs\.include: invalid pattern "\(unclosed": .*missing closing \)/,
  );
  t.deepEqual(info.volumeGroups, ["nlsrec"]);
  t.deepEqual(info.devices, ["/dev/loop5"]);
});

test("status: storage-reserved annotation lowers the summary and bad entries are named in state", async (t) => {
  const status = buildStatus(
    await recordedFacts(),
    {
      spec: { listConfig: { vgs: { include: ["nlsrec"] } } },
      annotations: { "csi.aliyun.com/storage-reserved": `{"nlsrec": "1Gi", "x": "?"}` },
    },
    { lvPrefix: "local", now },
  );
  t.is(status.summary!.allocatableBytes, 2139095040 - 2 ** 30);
  t.is(status.summary!.freeBytes, 2139095040 - 2 ** 30 - 54525952 - 104857600, "the reserve lowers FREE too");
  const state = status.nodeStorageInfo!.state!;
  t.deepEqual([state.status, state.reason], ["True", "ConfigurationProblems"]);
  t.regex(state.message!, /storage-reserved: x: invalid quantity/);
});

test("status: init refusals show in state without hiding the inventory", async (t) => {
  const status = buildStatus(await recordedFacts(), {}, { lvPrefix: "local", now }, [
    "VG pool not created: /dev/loop1: carries partition table dos at offset 0x1fe",
  ]);
  const state = status.nodeStorageInfo!.state!;
  t.deepEqual([state.status, state.reason], ["True", "ConfigurationProblems"]);
  t.is(state.message, "VG pool not created: /dev/loop1: carries partition table dos at offset 0x1fe");
  t.is(status.nodeStorageInfo!.volumeGroups!.length, 1);
});

test("status: failed LVM report is DiscoveryFailed (capacity unknown), not a healthy empty node", (t) => {
  const facts = emptyFacts({
    complete: { devices: true, lvm: false, mounts: true },
    errors: ["lvm fullreport failed (exit 5): locking failed"],
  });
  const state = buildStatus(facts, {}, { lvPrefix: "local", now }).nodeStorageInfo!.state!;
  t.deepEqual(
    [state.status, state.reason, state.message],
    ["False", "DiscoveryFailed", "lvm fullreport failed (exit 5): locking failed"],
  );
});

test("status: warnings alone keep the node True with reason DiscoveryWarnings", (t) => {
  const state = buildStatus(
    emptyFacts({ errors: ["wipefs /dev/sdc failed (exit 1): EIO"] }),
    {},
    { lvPrefix: "local", now },
  ).nodeStorageInfo!.state!;
  t.deepEqual([state.status, state.reason], ["True", "DiscoveryWarnings"]);
});

test("status: lastTransitionTime is kept while the state does not change, renewed when it does", async (t) => {
  const facts = await recordedFacts();
  const first = buildStatus(facts, {}, { lvPrefix: "local", now });
  const same = buildStatus(facts, {}, { lvPrefix: "local", now: later, previous: first });
  t.is(same.nodeStorageInfo!.state!.lastTransitionTime, now.toISOString());
  t.is(same.nodeStorageInfo!.state!.lastHeartbeatTime, later.toISOString());
  const changed = buildStatus(facts, {}, { lvPrefix: "local", now: later, previous: first }, ["VG x not created: y"]);
  t.is(changed.nodeStorageInfo!.state!.lastTransitionTime, later.toISOString());
});

test("status: same facts, same status apart from timestamps (no spurious writes)", async (t) => {
  const strip = (s: unknown) => JSON.parse(JSON.stringify(s), (k, v) => (/Time$/.test(k) ? undefined : v)) as unknown;
  const spec = { listConfig: { devices: { include: [".*"] }, vgs: { include: [".*"] } } };
  const a = buildStatus(await recordedFacts(), { spec }, { lvPrefix: "local", now });
  const b = buildStatus(await recordedFacts(), { spec }, { lvPrefix: "local", now: later });
  t.deepEqual(strip(a), strip(b));
  t.notDeepEqual(a, b);
});

test("status: a part that could not be read keeps its last reported state, flagged DiscoveryFailed", async (t) => {
  const good = buildStatus(
    await recordedFacts(),
    { spec: { listConfig: { vgs: { include: [".*"] } } } },
    { lvPrefix: "local", now },
  );
  const broken = emptyFacts({
    ...(await recordedFacts()),
    lvm: { pvs: [], vgs: [], lvs: [] },
    complete: { devices: true, lvm: false, mounts: true },
    errors: ["lvm fullreport failed (exit -1): lvm: timed out after 30000 ms"],
  });
  const status = buildStatus(
    broken,
    { spec: { listConfig: { vgs: { include: [".*"] } } } },
    { lvPrefix: "local", now: later, previous: good },
  );
  t.deepEqual(status.nodeStorageInfo!.volumeGroups, good.nodeStorageInfo!.volumeGroups);
  t.deepEqual(status.filteredStorageInfo!.volumeGroups, ["nlsrec"]);
  t.deepEqual(status.summary, good.summary);
  t.deepEqual(
    [status.nodeStorageInfo!.state!.status, status.nodeStorageInfo!.state!.reason],
    ["False", "DiscoveryFailed"],
  );
  const first = buildStatus(broken, {}, { lvPrefix: "local", now });
  t.deepEqual(first.nodeStorageInfo!.volumeGroups, [], "nothing known before: nothing reported");
});

test("status: the journal is written as given; a seen VG that LVM no longer reports is VolumeGroupMissing", async (t) => {
  const facts = await recordedFacts();
  const journal = { seenVolumeGroups: ["nlsrec", "pool-0"] };
  const status = buildStatus(facts, {}, { lvPrefix: "local", now, journal });
  t.deepEqual(status.journal, journal);
  t.like(status.nodeStorageInfo!.state, { status: "True", reason: "VolumeGroupMissing" });
  t.regex(status.nodeStorageInfo!.state!.message!, /^VG pool-0 was on this node and LVM does not report it now/);
  const fine = buildStatus(facts, {}, { lvPrefix: "local", now, journal: { seenVolumeGroups: ["nlsrec"] } });
  t.like(fine.nodeStorageInfo!.state, { reason: "Ready" });
  t.is(buildStatus(facts, {}, { lvPrefix: "local", now }).journal, undefined, "scan writes no journal");
});
