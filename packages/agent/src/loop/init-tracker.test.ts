import test from "ava";
import { NODE, setupAgent } from "../../testing/agent-harness.js";
import { initBackoffMs, reportOutcome, type InitTargetOutcome } from "./init-tracker.js";

test("an init refusal records one event however often it repeats, and its reason is in the status", async (t) => {
  const { kube, agent, host, clock, metrics } = setupAgent({
    nlsSpec: { nodeName: NODE, resourceToBeInited: { vgs: [{ name: "pool1", devices: ["/dev/vdc"] }] } },
  });
  host.facts.dirtyDevices = ["/dev/vdc"];
  for (let i = 0; i < 4; i++) {
    await agent.reconcile();
    clock.advance(60_000);
  }
  const refusals = kube.events.filter((e) => e.event.reason === "InitRefused");
  t.is(refusals.length, 1);
  t.is(refusals[0]!.event.type, "Warning");
  t.is(refusals[0]!.namespace, "kube-system");
  t.is(refusals[0]!.involved, NODE);
  t.regex(refusals[0]!.event.message, /pool1.*\/dev\/vdc: has an ext4 signature/);
  t.regex(
    kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message ?? "",
    /VG pool1 not created: \/dev\/vdc: has an ext4 signature/,
  );
  // Refusals run no command, so they are re-checked every scan (the user may clear the device)…
  t.is(host.initCalls.length, 4);
  t.regex(await metrics.text(), /nls_agent_init_total\{kind="vg",result="refused"\} 4$/m);
  // …and the status stays put: one write for all four scans.
  t.is(kube.writesOf("replaceNlsStatus").length, 1);

  // Once the device is clean the VG is created, with a Normal event, and reported in the same pass.
  host.facts.dirtyDevices = [];
  const r = await agent.reconcile();
  t.deepEqual(
    r.initOutcomes.map((o) => o.result),
    ["created"],
  );
  t.deepEqual(
    kube.events.map((e) => e.event.reason),
    ["InitRefused", "VolumeGroupCreated"],
  );
  t.true(kube.nls.get(NODE)!.status?.nodeStorageInfo?.volumeGroups?.some((v) => v.name === "pool1"));
  t.is(kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message, undefined);
});

test("a failing init is retried with capped exponential backoff and reported once", async (t) => {
  const { kube, agent, host, clock } = setupAgent({
    config: { initBackoffBaseMs: 60_000, initBackoffMaxMs: 240_000 },
    nlsSpec: { nodeName: NODE, resourceToBeInited: { vgs: [{ name: "pool1", devices: ["/dev/vdc"] }] } },
  });
  host.failInit = true;
  // Scans every 30s for 20 minutes; record at which scans init actually ran.
  const attemptsAt: number[] = [];
  for (let s = 0; s <= 40 * 30; s += 30) {
    const before = host.initCalls.length;
    await agent.reconcile();
    if (host.initCalls.length > before) attemptsAt.push(s);
    clock.advance(30_000);
  }
  // Delays 60, 120, 240, 240, … seconds after each failure.
  t.deepEqual(attemptsAt.slice(0, 7), [0, 60, 180, 420, 660, 900, 1140]);
  t.is(kube.events.filter((e) => e.event.reason === "InitFailed").length, 1);
  t.regex(
    kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message ?? "",
    /VG pool1 initialisation failed: vgcreate exited 5/,
  );
  // While waiting, the problem stays in the status (no flapping writes).
  t.is(kube.writesOf("replaceNlsStatus").length, 1);
});

test("a spec change clears the init backoff", async (t) => {
  const { kube, agent, host, clock } = setupAgent({
    nlsSpec: { nodeName: NODE, resourceToBeInited: { vgs: [{ name: "pool1", devices: ["/dev/vdc"] }] } },
  });
  host.failInit = true;
  await agent.reconcile();
  clock.advance(1_000);
  await agent.reconcile();
  t.is(host.initCalls.length, 1);
  host.failInit = false;
  kube.userUpdateSpec(NODE, {
    nodeName: NODE,
    resourceToBeInited: { vgs: [{ name: "pool1", devices: ["/dev/vdd"] }] },
  });
  const r = await agent.reconcile();
  t.is(host.initCalls.length, 2);
  t.deepEqual(
    r.initOutcomes.map((o) => o.result),
    ["created"],
  );
});

const backoffCases: { failures: number; want: number }[] = [
  { failures: 0, want: 0 },
  { failures: 1, want: 1_000 },
  { failures: 2, want: 2_000 },
  { failures: 4, want: 8_000 },
  { failures: 5, want: 10_000 },
  { failures: 6, want: 10_000 },
  { failures: 5000, want: 10_000 },
];
for (const c of backoffCases) {
  test(`initBackoffMs after ${c.failures} failures (base 1s, cap 10s)`, (t) => {
    t.is(initBackoffMs(c.failures, 1_000, 10_000), c.want);
  });
}

test("mount points: refused once with an event, created when the device is clean, failures back off apart from VGs", async (t) => {
  const { kube, agent, host, clock, metrics } = setupAgent({
    nlsSpec: {
      nodeName: NODE,
      resourceToBeInited: {
        vgs: [{ name: "pool1", devices: ["/dev/vdc"] }],
        mountpoints: [{ path: "/mnt/open-local/disk1", device: "/dev/vdd", fsType: "ext4" }],
      },
    },
  });
  host.facts.dirtyDevices = ["/dev/vdd"];
  await agent.reconcile();
  clock.advance(60_000);
  await agent.reconcile();
  const refused = kube.events.filter((e) => e.event.reason === "InitRefused");
  t.deepEqual(
    refused.map((e) => [e.event.action, e.event.message]),
    [["InitMountPoint", "mount point /mnt/open-local/disk1 not created: /dev/vdd: has an ext4 signature"]],
  );
  t.regex(
    kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message ?? "",
    /mount point \/mnt\/open-local\/disk1 not created/,
  );
  t.regex(await metrics.text(), /^nls_agent_init_total\{kind="mountpoint",result="refused"\} 2$/m);

  // The device is cleaned, but mkfs fails: the mount point backs off; the VG, already created, is untouched.
  host.facts.dirtyDevices = [];
  host.failInit = true;
  clock.advance(60_000);
  const failed = await agent.reconcile();
  t.deepEqual(
    failed.initOutcomes.map((o) => [o.kind, o.name, o.result]),
    [
      ["vg", "pool1", "exists"],
      ["mountpoint", "/mnt/open-local/disk1", "failed"],
    ],
  );
  clock.advance(30_000);
  const waiting = await agent.reconcile();
  t.deepEqual(
    waiting.initOutcomes.map((o) => [o.kind, o.result]),
    [["vg", "exists"]],
    "the mount point waits out its backoff",
  );
  t.deepEqual(host.initCalls.at(-1)?.mountpoints, []);
  t.regex(
    kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message ?? "",
    /mount point \/mnt\/open-local\/disk1 initialisation failed: mkfs.ext4 exited 1/,
  );

  host.failInit = false;
  clock.advance(60_000);
  const created = await agent.reconcile();
  t.deepEqual(
    created.initOutcomes.map((o) => [o.kind, o.result]),
    [
      ["vg", "exists"],
      ["mountpoint", "created"],
    ],
  );
  t.deepEqual(
    kube.events.map((e) => e.event.reason),
    ["VolumeGroupCreated", "InitRefused", "InitFailed", "MountPointCreated"],
  );
});

const base = { kind: "vg", name: "pool1", subject: "vg:pool1", label: "VG pool1", detail: "on /dev/vdc" } as const;
const mp = {
  kind: "mountpoint",
  name: "/mnt/d1",
  subject: "mountpoint:/mnt/d1",
  label: "mount point /mnt/d1",
  detail: "from /dev/vdd",
} as const;
const reports: Array<[string, InitTargetOutcome, ReturnType<typeof reportOutcome>]> = [
  [
    "a created VG: a Normal event, no problem",
    { ...base, result: "created" },
    {
      event: {
        type: "Normal",
        reason: "VolumeGroupCreated",
        action: "InitVolumeGroup",
        message: "created VG pool1 on /dev/vdc",
      },
    },
  ],
  [
    "a mounted mount point",
    { ...mp, result: "mounted" },
    {
      event: {
        type: "Normal",
        reason: "MountPointMounted",
        action: "InitMountPoint",
        message: "mounted mount point /mnt/d1 from /dev/vdd",
      },
    },
  ],
  ["a VG that exists as asked: nothing", { ...base, result: "exists" }, {}],
  [
    "a VG that exists otherwise: a mismatch",
    { ...base, result: "exists", reason: "PVs differ" },
    {
      problem: "VG pool1 exists and was left alone: PVs differ",
      event: {
        type: "Warning",
        reason: "VolumeGroupMismatch",
        action: "InitVolumeGroup",
        message: "VG pool1 exists and was left alone: PVs differ",
      },
    },
  ],
  [
    "a refusal whose reason names the target keeps it",
    { ...base, result: "refused", reason: "VG pool1: /dev/vdc: has an ext4 signature" },
    {
      problem: "VG pool1: /dev/vdc: has an ext4 signature",
      event: {
        type: "Warning",
        reason: "InitRefused",
        action: "InitVolumeGroup",
        message: "VG pool1: /dev/vdc: has an ext4 signature",
      },
    },
  ],
  [
    "a refusal of a mount point",
    { ...mp, result: "refused", reason: "/dev/vdd: is mounted" },
    {
      problem: "mount point /mnt/d1 not created: /dev/vdd: is mounted",
      event: {
        type: "Warning",
        reason: "InitRefused",
        action: "InitMountPoint",
        message: "mount point /mnt/d1 not created: /dev/vdd: is mounted",
      },
    },
  ],
  [
    "a failure says it is retried",
    { ...base, result: "failed", reason: "vgcreate exited 5" },
    {
      problem: "VG pool1 initialisation failed: vgcreate exited 5",
      event: {
        type: "Warning",
        reason: "InitFailed",
        action: "InitVolumeGroup",
        message: "VG pool1 initialisation failed: vgcreate exited 5 (retrying with backoff)",
      },
    },
  ],
];
for (const [title, outcome, want] of reports) {
  test(`reportOutcome: ${title}`, (t) => t.deepEqual(reportOutcome(outcome), want));
}
