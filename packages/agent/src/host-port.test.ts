import test from "ava";
import type { ResourceToBeInited } from "@nls/api";
import { Agent, DEFAULT_AGENT_CONFIG } from "./agent.js";
import { NO_DIR, RECORDED_PROC, fail, fakeRunner, ok, recordedAnswer } from "../testing/fake-host.js";
import { realHost } from "./host-port.js";
import { FakeKube } from "../testing/fake-kube.js";
import { createLogger } from "@nls/daemon";
import { AgentMetrics } from "./metrics.js";

/**
 * The daemon's real host side (discovery, init plan, report) wired into the reconcile loop, replaying
 * the recorded VM (VG `nlsrec` on loop2+loop3, a DOS table on loop1, loop5 clean) against the fake API.
 */

const MOUNTINFO = new URL("discovery/testdata/mountinfo.txt", import.meta.url).pathname;

function setup(resourceToBeInited: ResourceToBeInited) {
  const runner = fakeRunner((cmd, args) => {
    const recorded = recordedAnswer(cmd, args);
    if (recorded) return recorded;
    if (cmd === "vgcreate") return ok("");
    return fail(`${cmd}: not expected`, 127);
  });
  const kube = new FakeKube();
  kube.addNode("vm");
  kube.addInitConfig({
    metadata: { name: "open-local" },
    spec: {
      globalConfig: {
        listConfig: { vgs: { include: ["nls.*"] }, devices: { include: ["/dev/loop[5-7]"] } },
        resourceToBeInited,
      },
    },
  });
  const agent = new Agent({
    kube,
    host: realHost(runner, {
      deviceGlobs: ["/dev/loop*"],
      // Not the recorded mount root: statfs of a real, busy filesystem would make the test depend on this host.
      mountRoot: "/nonexistent/mnt/open-local",
      mountInfoPath: MOUNTINFO,
      aliasDirs: [],
      lvmBackupDir: NO_DIR,
      procRoot: RECORDED_PROC,
      lvPrefix: "local",
    }),
    metrics: new AgentMetrics({ defaultMetrics: false }),
    log: createLogger("nls-agent", "silent"),
    config: {
      ...DEFAULT_AGENT_CONFIG,
      nodeName: "vm",
      initConfigName: "open-local",
      leaseNamespace: "nls-node-lease",
      eventNamespace: "kube-system",
    },
  });
  return { runner, kube, agent };
}

test("recorded host: status reported once, refusal of a device with a partition table recorded once, nothing run on it", async (t) => {
  const { runner, kube, agent } = setup({ vgs: [{ name: "pool-new", devices: ["/dev/loop1"] }] });
  for (let i = 0; i < 3; i++) await agent.reconcile();

  const nls = kube.nls.get("vm")!;
  const vg = nls.status?.nodeStorageInfo?.volumeGroups?.find((v) => v.name === "nlsrec");
  t.truthy(vg);
  t.deepEqual(vg?.physicalVolumes, ["/dev/loop2", "/dev/loop3"]);
  t.deepEqual(nls.status?.filteredStorageInfo?.volumeGroups, ["nlsrec"]);
  t.deepEqual(nls.status?.filteredStorageInfo?.devices, ["/dev/loop5", "/dev/loop6", "/dev/loop7"]);
  t.regex(nls.status?.nodeStorageInfo?.state?.message ?? "", /pool-new.*\/dev\/loop1/);

  t.is(kube.writesOf("replaceNlsStatus").length, 1, "a steady host is written once");
  const refusals = kube.events.filter((e) => e.event.reason === "InitRefused");
  t.is(refusals.length, 1);
  t.regex(refusals[0]!.event.message, /\/dev\/loop1/);
  t.deepEqual([...new Set(runner.calls.map((c) => c.cmd))].sort(), ["losetup", "lsblk", "lvm", "wipefs"]);
});

test("recorded host: a clean device gets one vgcreate, without --force, once the status records the intent", async (t) => {
  const { runner, kube, agent } = setup({ vgs: [{ name: "pool-new", devices: ["/dev/loop5"] }] });
  const first = await agent.reconcile();
  t.deepEqual(
    first.initOutcomes.map((o) => [o.name, o.result]),
    [["pool-new", "pending"]],
  );
  t.false(
    runner.calls.some((c) => c.cmd === "vgcreate"),
    "nothing is written before the intent is stored",
  );
  const stored = kube.nls.get("vm")!.status!.journal!;
  t.deepEqual(stored.creating, [{ name: "pool-new", devices: ["/dev/loop5"] }]);
  t.deepEqual(stored.seenVolumeGroups, ["nlsrec"]);
  const r = await agent.reconcile();
  t.deepEqual(
    r.initOutcomes.map((o) => [o.name, o.result]),
    [["pool-new", "created"]],
  );
  const writes = runner.calls.filter((c) => c.cmd === "pvcreate" || c.cmd === "vgcreate");
  t.deepEqual(
    writes.map((c) => c.cmd),
    ["vgcreate"],
  );
  for (const c of writes) {
    t.true(c.args.includes("/dev/loop5"));
    t.false(c.args.some((a) => a === "--force" || a === "-f" || a === "-ff" || a === "--yes" || a === "-y"));
  }
  t.deepEqual(
    kube.events.map((e) => e.event.reason),
    ["VolumeGroupCreated"],
  );
});

test("recorded host: an existing VG whose PVs differ from the spec is left alone and reported once", async (t) => {
  const { runner, kube, agent } = setup({ vgs: [{ name: "nlsrec", devices: ["/dev/loop2"] }] });
  await agent.reconcile();
  await agent.reconcile();
  const mismatches = kube.events.filter((e) => e.event.reason === "VolumeGroupMismatch");
  t.is(mismatches.length, 1);
  t.regex(mismatches[0]!.event.message, /^VG nlsrec exists with PVs \[\/dev\/loop2, \/dev\/loop3\]/);
  t.regex(kube.nls.get("vm")!.status?.nodeStorageInfo?.state?.message ?? "", /VG nlsrec exists with PVs/);
  t.deepEqual([...new Set(runner.calls.map((c) => c.cmd))].sort(), ["losetup", "lsblk", "lvm", "wipefs"]);
});

test("recorded host: a mount point on a device with a partition table is refused, and nothing is run for it", async (t) => {
  const { runner, kube, agent } = setup({
    mountpoints: [{ path: "/mnt/open-local/x", device: "/dev/loop1", fsType: "ext4" }],
  });
  const r = await agent.reconcile();
  t.deepEqual(
    r.initOutcomes.map((o) => [o.kind, o.name, o.result]),
    [["mountpoint", "/mnt/open-local/x", "refused"]],
  );
  t.regex(kube.events[0]?.event.message ?? "", /^mount point \/mnt\/open-local\/x not created: .*\/dev\/loop1/);
  t.deepEqual([...new Set(runner.calls.map((c) => c.cmd))].sort(), ["losetup", "lsblk", "lvm", "wipefs"]);
});
