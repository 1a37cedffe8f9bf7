import test from "ava";
import { describeInitPlan, planInit } from "./plan.js";
import { discoverHost, type HostFacts } from "../discovery/host.js";
import {
  NO_DIR,
  RECORDED_MOUNTINFO,
  RECORDED_PROC,
  disk,
  emptyFacts,
  fail,
  fakeRunner,
  fixture,
  ok,
  pvFacts,
  recordedFacts,
  vgFacts,
} from "../../testing/fake-host.js";

const CTX = { mountRoot: "/mnt/open-local" };

/** The synthetic NVMe/SCSI/md tree with default-like globs, no LVM, no signatures except where set. */
async function treeFacts(): Promise<HostFacts> {
  const runner = fakeRunner((cmd, args) => {
    if (cmd === "lsblk") return ok(fixture("lsblk-tree.synthetic.json"));
    if (cmd === "lvm") return args[0] === "systemid" ? ok("  system ID: \n") : ok(`{"report": []}`);
    if (cmd === "wipefs")
      return ok(JSON.stringify({ signatures: [{ device: "nvme1n1", offset: "0x0", type: "xfs" }] }));
    return fail("unexpected", 127);
  });
  return discoverHost(runner, {
    lvmBackupDir: NO_DIR,
    deviceGlobs: ["/dev/sd*", "/dev/nvme*n*", "/dev/xvd*", "/dev/md*", "/dev/loop*"],
    mountRoot: "/nonexistent",
    mountInfoPath: RECORDED_MOUNTINFO,
    procRoot: RECORDED_PROC,
  });
}

// The safety matrix: one VG per row, the devices asked for, and what must come out.
const recordedMatrix: Array<[string, string[], "create" | "refused", RegExp[]]> = [
  ["a clean loop device", ["/dev/loop5"], "create", []],
  ["two clean loop devices", ["/dev/loop5", "/dev/loop6"], "create", []],
  [
    "a mounted device (ext4 with files)",
    ["/dev/loop0"],
    "refused",
    [/^\/dev\/loop0: is mounted at \/tmp\/nlsrec\/mnt\/open-local\/a$/],
  ],
  ["a partition table", ["/dev/loop1"], "refused", [/^\/dev\/loop1: carries partition table dos at offset 0x1fe$/]],
  ["a PV of another VG", ["/dev/loop2"], "refused", [/^\/dev\/loop2: is a physical volume of VG nlsrec$/]],
  ["an orphan PV", ["/dev/loop4"], "refused", [/^\/dev\/loop4: is already an LVM physical volume$/]],
  ["a missing device", ["/dev/sdz"], "refused", [/^\/dev\/sdz: no such block device$/]],
  [
    "the mounted root disk",
    ["/dev/vda"],
    "refused",
    [/^\/dev\/vda: is mounted at \/tmp\/nlsrec\/mnt\/open-local\/b, \/$/],
  ],
  ["one bad device refuses the whole VG", ["/dev/loop5", "/dev/loop1"], "refused", [/loop1: carries partition table/]],
  ["a device listed twice", ["/dev/loop5", "/dev/loop5"], "refused", [/^\/dev\/loop5: listed twice$/]],
  ["no devices", [], "refused", [/^no devices listed$/]],
];
for (const [name, devices, action, reasons] of recordedMatrix) {
  test(`init plan: ${name} → ${action}`, async (t) => {
    const plan = planInit({ vgs: [{ name: "pool", devices }] }, await recordedFacts(), CTX);
    const p = plan.vgs[0]!;
    t.is(p.action, action);
    t.is(p.reasons.length, reasons.length, p.reasons.join("\n"));
    reasons.forEach((re, i) => t.regex(p.reasons[i]!, re));
    if (action === "create") {
      t.deepEqual(p.commands, [{ cmd: "vgcreate", args: ["--", "pool", ...devices] }]);
    } else t.deepEqual(p.commands, []);
  });
}

const treeMatrix: Array<[string, string, RegExp[]]> = [
  ["a disk with partitions", "/dev/nvme0n1", [/^\/dev\/nvme0n1: has partitions \/dev\/nvme0n1p1, \/dev\/nvme0n1p2$/]],
  ["a partition held by an LV", "/dev/nvme0n1p2", [/^\/dev\/nvme0n1p2: is in use by \/dev\/mapper\/vg0-root \(lvm\)$/]],
  ["a mounted partition", "/dev/nvme0n1p1", [/is mounted at \/boot\/efi/]],
  ["a RAID member", "/dev/sda", [/^\/dev\/sda: is in use by \/dev\/md0 \(raid1\)$/]],
  ["an md array", "/dev/md0", [/is a raid1 device, not a disk or partition/, /is mounted at \/data/]],
  ["a filesystem signature", "/dev/nvme1n1", [/^\/dev\/nvme1n1: carries filesystem xfs at offset 0x0$/]],
  ["a read-only disk", "/dev/xvdf", [/^\/dev\/xvdf: is read-only$/]],
  ["a device outside --devices", "/dev/sr0", [/^\/dev\/sr0: not matched by --devices/]],
];
for (const [name, device, reasons] of treeMatrix) {
  test(`init plan: ${name} → refused`, async (t) => {
    const p = planInit({ vgs: [{ name: "pool", devices: [device] }] }, await treeFacts(), CTX).vgs[0]!;
    t.is(p.action, "refused");
    t.deepEqual(p.commands, []);
    t.is(p.reasons.length, reasons.length, p.reasons.join("\n"));
    reasons.forEach((re, i) => t.regex(p.reasons[i]!, re));
  });
}

test("init plan: a device whose signatures are unknown is refused", (t) => {
  const facts = emptyFacts({
    devices: [disk("/dev/sdc")],
    candidates: ["/dev/sdc"],
    probeErrors: { "/dev/sdc": "wipefs /dev/sdc failed (exit 1): Input/output error" },
  });
  const p = planInit({ vgs: [{ name: "pool", devices: ["/dev/sdc"] }] }, facts, CTX).vgs[0]!;
  t.deepEqual(p.reasons, ["/dev/sdc: signatures unknown (wipefs /dev/sdc failed (exit 1): Input/output error)"]);
});

test("init plan: a device never probed is refused (no guessing)", (t) => {
  const facts = emptyFacts({ devices: [disk("/dev/sdc")], candidates: ["/dev/sdc"] });
  t.deepEqual(planInit({ vgs: [{ name: "pool", devices: ["/dev/sdc"] }] }, facts, CTX).vgs[0]!.reasons, [
    "/dev/sdc: signatures were not probed",
  ]);
});

test("init plan: unknown LVM or device state refuses everything", (t) => {
  const base = { devices: [disk("/dev/sdc")], candidates: ["/dev/sdc"], signatures: { "/dev/sdc": [] } };
  const noLvm = emptyFacts({ ...base, complete: { devices: true, lvm: false, mounts: true } });
  t.deepEqual(planInit({ vgs: [{ name: "pool", devices: ["/dev/sdc"] }] }, noLvm, CTX).vgs[0]!.reasons, [
    "LVM state could not be read, so it is unknown whether the VG exists",
  ]);
  const noDevices = emptyFacts({ ...base, complete: { devices: false, lvm: true, mounts: true } });
  t.deepEqual(planInit({ vgs: [{ name: "pool", devices: ["/dev/sdc"] }] }, noDevices, CTX).vgs[0]!.reasons, [
    "/dev/sdc: block devices could not be listed",
  ]);
  const noMounts = emptyFacts({ ...base, complete: { devices: true, lvm: true, mounts: false } });
  t.deepEqual(planInit({ vgs: [{ name: "pool", devices: ["/dev/sdc"] }] }, noMounts, CTX).vgs[0]!.reasons, [
    "/dev/sdc: mount state unknown (mounts could not be read)",
  ]);
  const clean = emptyFacts(base);
  t.is(planInit({ vgs: [{ name: "pool", devices: ["/dev/sdc"] }] }, clean, CTX).vgs[0]!.action, "create");
});

test("init plan: an existing VG is left alone; differing PVs are reported", async (t) => {
  const facts = await recordedFacts();
  const plan = planInit(
    {
      vgs: [
        { name: "nlsrec", devices: ["/dev/loop3", "/dev/loop2"] },
        { name: "nlsrec", devices: ["/dev/loop2", "/dev/loop5"] },
      ],
    },
    facts,
    CTX,
  );
  t.deepEqual(plan.vgs[0], {
    vg: "nlsrec",
    action: "exists",
    devices: ["/dev/loop3", "/dev/loop2"],
    reasons: [],
    commands: [],
  });
  t.is(plan.vgs[1]!.action, "exists");
  t.deepEqual(plan.vgs[1]!.reasons, [
    "VG nlsrec exists with PVs [/dev/loop2, /dev/loop3], spec lists [/dev/loop2, /dev/loop5]; left unchanged",
  ]);
  t.deepEqual(plan.vgs[1]!.commands, []);
});

test("init plan: one device asked for by two VGs goes to neither second", async (t) => {
  const plan = planInit(
    {
      vgs: [
        { name: "a", devices: ["/dev/loop5"] },
        { name: "b", devices: ["/dev/loop5", "/dev/loop6"] },
      ],
    },
    await recordedFacts(),
    CTX,
  );
  t.deepEqual(
    plan.vgs.map((p) => p.action),
    ["create", "refused"],
  );
  t.deepEqual(plan.vgs[1]!.reasons, ["/dev/loop5: also listed for VG a"]);
});

test("init plan: nothing to init, and the problem lines for status", async (t) => {
  t.deepEqual(planInit(undefined, await recordedFacts(), CTX), { vgs: [] });
  const plan = planInit(
    {
      vgs: [
        { name: "ok", devices: ["/dev/loop5"] },
        { name: "bad", devices: ["/dev/loop0", "/dev/loop1"] },
        { name: "nlsrec", devices: ["/dev/loop2"] },
      ],
    },
    await recordedFacts(),
    CTX,
  );
  t.deepEqual(describeInitPlan(plan), [
    "VG bad not created: /dev/loop0: is mounted at /tmp/nlsrec/mnt/open-local/a; /dev/loop1: carries partition table dos at offset 0x1fe",
    "VG nlsrec exists with PVs [/dev/loop2, /dev/loop3], spec lists [/dev/loop2]; left unchanged",
  ]);
});

test("init plan: a stable alias (/dev/disk/by-id) is checked, claimed and run as its device", (t) => {
  const alias = "/dev/disk/by-id/virtio-data1";
  const facts = emptyFacts({
    devices: [disk("/dev/sdc"), disk("/dev/sdd", { mountpoints: ["/data"] })],
    candidates: ["/dev/sdc", "/dev/sdd"],
    signatures: { "/dev/sdc": [], "/dev/sdd": [] },
    aliases: { [alias]: "/dev/sdc", "/dev/disk/by-id/virtio-data2": "/dev/sdd" },
  });
  const ok = planInit({ vgs: [{ name: "pool", devices: [alias] }] }, facts, CTX).vgs[0]!;
  t.is(ok.action, "create");
  t.deepEqual(ok.devices, [alias]);
  t.deepEqual(ok.commands, [{ cmd: "vgcreate", args: ["--", "pool", "/dev/sdc"] }]);
  const twice = planInit({ vgs: [{ name: "pool", devices: [alias, "/dev/sdc"] }] }, facts, CTX).vgs[0]!;
  t.deepEqual(twice.reasons, ["/dev/sdc: listed twice"]);
  const busy = planInit({ vgs: [{ name: "pool", devices: ["/dev/disk/by-id/virtio-data2"] }] }, facts, CTX).vgs[0]!;
  t.deepEqual(busy.reasons, ["/dev/disk/by-id/virtio-data2 (/dev/sdd): is mounted at /data"]);

  const withVg = emptyFacts({
    ...facts,
    lvm: {
      vgs: [],
      lvs: [],
      pvs: [pvFacts("/dev/sdc", "pool")],
    },
  });
  withVg.lvm.vgs.push(vgFacts("pool"));
  t.deepEqual(planInit({ vgs: [{ name: "pool", devices: [alias] }] }, withVg, CTX).vgs[0]!.reasons, [], "same PVs");
});

test("init plan: a VG name LVM would reject or read as an option is refused before anything else", async (t) => {
  const facts = await recordedFacts();
  for (const [name, why] of [
    ["--test", /VG name "--test" is invalid: a VG name must not start with '-'/],
    ["pool 0", /VG name "pool 0" is invalid: .*not " "/],
    ["..", /VG name "\.\." is invalid/],
    ["x".repeat(128), /at most 127 characters/],
  ] as const) {
    const p = planInit({ vgs: [{ name, devices: ["/dev/loop5"] }] }, facts, CTX).vgs[0]!;
    t.is(p.action, "refused", name);
    t.deepEqual(p.commands, []);
    t.is(p.reasons.length, 1);
    t.regex(p.reasons[0]!, why);
  }
  // The device a refused name asked for is not claimed: a valid VG may still have it.
  const both = planInit(
    {
      vgs: [
        { name: "--test", devices: ["/dev/loop5"] },
        { name: "pool", devices: ["/dev/loop5"] },
      ],
    },
    facts,
    CTX,
  );
  t.deepEqual(
    both.vgs.map((p) => p.action),
    ["refused", "create"],
  );
});

test("init plan: another host's VG of that name is left alone, never created again", (t) => {
  const facts = emptyFacts({
    devices: [disk("/dev/sdc")],
    candidates: ["/dev/sdc"],
    signatures: { "/dev/sdc": [] },
    lvm: { vgs: [vgFacts("pool", { systemId: "other" })], pvs: [], lvs: [] },
  });
  const p = planInit({ vgs: [{ name: "pool", devices: ["/dev/sdc"] }] }, facts, CTX).vgs[0]!;
  t.deepEqual(p, {
    vg: "pool",
    action: "exists",
    devices: ["/dev/sdc"],
    reasons: ["VG pool exists and belongs to system ID other, not this host's; left unchanged"],
    commands: [],
  });
});

test("init plan: a system ID no VG of this host carries may be the container's: creation is refused", (t) => {
  const base = { devices: [disk("/dev/sdc")], candidates: ["/dev/sdc"], signatures: { "/dev/sdc": [] } };
  const want = { vgs: [{ name: "pool", devices: ["/dev/sdc"] }] };
  const fresh = planInit(want, emptyFacts({ ...base, lvmSystemId: "agent-pod-x7" }), CTX).vgs[0]!;
  t.is(fresh.action, "refused");
  t.deepEqual(fresh.commands, []);
  t.regex(
    fresh.reasons.join("; "),
    /would stamp the new VG with system ID agent-pod-x7 .*no VG on this node carries it/,
  );
  // A VG of this host carrying the same ID shows the agent's LVM has the host's identity.
  const proven = emptyFacts({
    ...base,
    lvmSystemId: "node-1",
    lvm: { vgs: [vgFacts("sys", { systemId: "node-1" })], pvs: [], lvs: [] },
  });
  t.is(planInit(want, proven, CTX).vgs[0]!.action, "create");
  // No system ID configured: nothing to get wrong.
  t.is(planInit(want, emptyFacts(base), CTX).vgs[0]!.action, "create");
});

/** A clean /dev/sdc and /dev/sdd, LVM readable. */
const cleanPair = (overrides: Parameters<typeof emptyFacts>[0] = {}) =>
  emptyFacts({
    devices: [disk("/dev/sdc"), disk("/dev/sdd")],
    candidates: ["/dev/sdc", "/dev/sdd"],
    signatures: { "/dev/sdc": [], "/dev/sdd": [] },
    ...overrides,
  });
const want = { vgs: [{ name: "pool", devices: ["/dev/sdc", "/dev/sdd"] }] };

test("init plan: a VG name seen on this node before is never created again, whatever disk has the name now", (t) => {
  const p = planInit(want, cleanPair(), { ...CTX, journal: { seenVolumeGroups: ["other", "pool"] } }).vgs[0]!;
  t.is(p.action, "refused");
  t.deepEqual(p.commands, []);
  t.deepEqual(p.reasons, [
    "VG pool existed on this node and LVM does not report it now (a disk missing or failed?): the agent saw it here " +
      "(status.journal.seenVolumeGroups); it is not created again on other disks — if it is gone for good, remove that record",
  ]);
  // LVM's own memory: a metadata backup, which only vgremove removes.
  const backup = planInit(want, cleanPair({ lvmBackups: ["pool"] }), CTX).vgs[0]!;
  t.is(backup.action, "refused");
  t.regex(backup.reasons[0]!, /LVM keeps a metadata backup of it \(removed only by vgremove\)/);
});

test("init plan: PVs that name a VG LVM does not list mean the name is taken", (t) => {
  const f = cleanPair({ lvm: { vgs: [], lvs: [], pvs: [pvFacts("/dev/sde", "pool")] } });
  const p = planInit(want, f, CTX).vgs[0]!;
  t.deepEqual(
    [p.action, p.reasons],
    ["exists", ["LVM reports PVs of VG pool (/dev/sde) but not the VG itself; left unchanged"]],
  );
});

test("init plan: a create is recorded first; with the record it runs, on the devices as resolved", (t) => {
  const first = planInit(want, cleanPair(), CTX).vgs[0]!;
  t.like(first, { action: "create", recorded: false, intent: { name: "pool", devices: ["/dev/sdc", "/dev/sdd"] } });
  const journal = { seenVolumeGroups: [], creating: [{ name: "pool", devices: ["/dev/sdd", "/dev/sdc"] }] };
  const next = planInit(want, cleanPair(), { ...CTX, journal }).vgs[0]!;
  t.like(next, { action: "create", recorded: true });
  t.deepEqual(next.commands, [{ cmd: "vgcreate", args: ["--", "pool", "/dev/sdc", "/dev/sdd"] }]);
  // The spec changed its devices since: record again before running.
  const moved = planInit({ vgs: [{ name: "pool", devices: ["/dev/sdc"] }] }, cleanPair(), { ...CTX, journal }).vgs[0]!;
  t.like(moved, { action: "create", recorded: false });
});

test("init plan: PV labels an interrupted vgcreate of this VG left are finished; anyone else's are refused", (t) => {
  const journal = { seenVolumeGroups: [], creating: [{ name: "pool", devices: ["/dev/sdc", "/dev/sdd"] }] };
  // vgcreate labelled sdc, then died before writing the VG: sdc is an orphan PV with a metadata area.
  const half = cleanPair({ lvm: { vgs: [], lvs: [], pvs: [pvFacts("/dev/sdc", "")] } });
  const resumed = planInit(want, half, { ...CTX, journal }).vgs[0]!;
  t.like(resumed, { action: "create", recorded: true, reasons: [] });
  t.deepEqual(resumed.commands, [{ cmd: "vgcreate", args: ["--", "pool", "/dev/sdc", "/dev/sdd"] }]);

  // Without the record it is someone's orphan PV.
  t.deepEqual(planInit(want, half, CTX).vgs[0]!.reasons, ["/dev/sdc: is already an LVM physical volume"]);
  // Recorded for another VG: not this VG's to take.
  const elsewhere = { seenVolumeGroups: [], creating: [{ name: "other", devices: ["/dev/sdc"] }] };
  t.deepEqual(planInit(want, half, { ...CTX, journal: elsewhere }).vgs[0]!.reasons, [
    "/dev/sdc: is already an LVM physical volume",
  ]);
  // A PV without a metadata area may belong to a VG whose other PVs are missing: never taken.
  const noMda = cleanPair({ lvm: { vgs: [], lvs: [], pvs: [pvFacts("/dev/sdc", "", { mdaCount: 0 })] } });
  t.deepEqual(planInit(want, noMda, { ...CTX, journal }).vgs[0]!.reasons, [
    "/dev/sdc: is already an LVM physical volume",
  ]);
  // Anything else on a recorded device still refuses it.
  const mounted = cleanPair({
    devices: [disk("/dev/sdc", { mountpoints: ["/data"] }), disk("/dev/sdd")],
    lvm: { vgs: [], lvs: [], pvs: [pvFacts("/dev/sdc", "")] },
  });
  t.deepEqual(planInit(want, mounted, { ...CTX, journal }).vgs[0]!.reasons, ["/dev/sdc: is mounted at /data"]);
});
