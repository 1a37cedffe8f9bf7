import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { DEFAULT_DEVICE_GLOBS, discoverHost, normaliseDeviceGlobs, selectCandidates } from "./host.js";
import { parseLsblk } from "./lsblk.js";
import {
  NO_DIR,
  RECORDED_MOUNTINFO,
  RECORDED_PROC,
  fail,
  fakeRunner,
  fixture,
  ok,
  recordedAnswer,
  recordedRunner,
} from "../../testing/fake-host.js";

const opts = {
  deviceGlobs: ["/dev/loop*", "vd*"],
  mountRoot: "/nonexistent/mnt",
  mountInfoPath: RECORDED_MOUNTINFO,
  procRoot: RECORDED_PROC,
  lvmBackupDir: NO_DIR,
};

test("discoverHost: recorded VM state, five commands, mounted devices not probed", async (t) => {
  const runner = recordedRunner();
  const facts = await discoverHost(runner, opts);
  t.deepEqual(
    runner.calls.map((c) => [c.cmd, ...c.args.slice(0, 1)].join(" ")),
    ["lsblk -J", "lvm fullreport", "lvm systemid", "wipefs -n", "losetup --list"],
  );
  const wipefs = runner.calls[3]!;
  t.deepEqual(wipefs.args.slice(2), [
    "--",
    "/dev/loop1",
    "/dev/loop2",
    "/dev/loop3",
    "/dev/loop4",
    "/dev/loop5",
    "/dev/loop6",
    "/dev/loop7",
  ]);
  t.deepEqual(facts.candidates, [
    "/dev/loop0",
    "/dev/loop1",
    "/dev/loop2",
    "/dev/loop3",
    "/dev/loop4",
    "/dev/loop5",
    "/dev/loop6",
    "/dev/loop7",
    "/dev/vda",
  ]);
  t.deepEqual(
    facts.signatures["/dev/loop1"]!.map((s) => s.type),
    ["dos"],
  );
  t.deepEqual(facts.signatures["/dev/loop5"], []);
  t.is(facts.signatures["/dev/loop0"], undefined, "mounted: not probed");
  t.deepEqual(facts.complete, { devices: true, lvm: true, mounts: true });
  t.deepEqual(facts.errors, []);
  t.deepEqual([facts.commandsRun, facts.commandErrors], [5, {}]);
  t.is(facts.lvmSystemId, "");
  t.deepEqual(
    facts.loops?.map((l) => [l.name, l.backFile, l.backMajMin]),
    Array.from({ length: 8 }, (_, i) => [`/dev/loop${i}`, `/tmp/nlsrec/disk-${i}.img`, "254:0"]),
  );
  t.deepEqual(
    facts.lvm.vgs.map((v) => v.name),
    ["nlsrec"],
  );
});

test("discoverHost: a mount lsblk did not see is merged from mountinfo by major:minor", async (t) => {
  const lsblk = JSON.parse(fixture("lsblk.json"));
  for (const d of lsblk.blockdevices) d.mountpoints = [null];
  const facts = await discoverHost(recordedRunner({ lsblk: ok(JSON.stringify(lsblk)) }), opts);
  t.deepEqual(facts.devices.find((d) => d.name === "/dev/loop0")!.mountpoints, ["/tmp/nlsrec/mnt/open-local/a"]);
  t.deepEqual(facts.devices.find((d) => d.name === "/dev/vda")!.mountpoints, ["/", "/tmp/nlsrec/mnt/open-local/b"]);
});

test("discoverHost: the LVM invocation count does not grow with the number of LVs", async (t) => {
  const lvs = Array.from({ length: 500 }, (_, i) => ({
    lv_name: `local-${i}`,
    vg_name: "big",
    lv_size: "4194304",
    lv_attr: "-wi-------",
  }));
  const report = {
    report: [
      {
        vg: [{ vg_name: "big", vg_attr: "wz--n-", vg_size: "4294967296", vg_free: "0", lv_count: "500" }],
        pv: [],
        lv: lvs,
      },
    ],
  };
  const runner = recordedRunner({ lvm: ok(JSON.stringify(report)) });
  const facts = await discoverHost(runner, opts);
  t.is(facts.lvm.lvs.length, 500);
  t.is(runner.calls.filter((c) => c.cmd === "lvm" && c.args[0] === "fullreport").length, 1);
  t.is(runner.calls.length, 5);
});

test("discoverHost: default globs take SCSI, virtio, Xen and NVMe disks and partitions, not md/dm/rom", (t) => {
  const devices = parseLsblk(fixture("lsblk-tree.synthetic.json"));
  t.deepEqual(selectCandidates(devices, DEFAULT_DEVICE_GLOBS), [
    "/dev/nvme0n1",
    "/dev/nvme0n1p1",
    "/dev/nvme0n1p2",
    "/dev/nvme1n1",
    "/dev/sda",
    "/dev/sdb",
    "/dev/xvdf",
  ]);
  t.deepEqual(selectCandidates(devices, ["/dev/*"]).includes("/dev/sr0"), false);
  t.deepEqual(selectCandidates(devices, ["nvme1n1", " sd[a]"]), ["/dev/nvme1n1", "/dev/sda"]);
});

test("normaliseDeviceGlobs: relative globs are under /dev, blanks dropped", (t) => {
  t.deepEqual(normaliseDeviceGlobs(["sd*", " /dev/loop* ", "", "nvme*n*"]), ["/dev/sd*", "/dev/loop*", "/dev/nvme*n*"]);
});

test("discoverHost: when the batch probe fails, each device is probed alone and the failing one is unknown", async (t) => {
  const runner = fakeRunner((cmd, args) => {
    if (cmd !== "wipefs") return recordedAnswer(cmd, args)!;
    if (args.includes("/dev/loop3"))
      return fail("wipefs: error: /dev/loop3: probing initialization failed: Input/output error");
    if (args.length === 4 && args[3] === "/dev/loop1") return ok(fixture("wipefs-batch.json"));
    return ok(fixture("wipefs-clean.json"));
  });
  const facts = await discoverHost(runner, opts);
  t.is(runner.calls.filter((c) => c.cmd === "wipefs").length, 1 + 7);
  t.deepEqual(Object.keys(facts.probeErrors), ["/dev/loop3"]);
  t.regex(facts.probeErrors["/dev/loop3"]!, /Input\/output error/);
  t.is(facts.signatures["/dev/loop3"], undefined);
  t.deepEqual(
    facts.signatures["/dev/loop1"]!.map((s) => s.type),
    ["dos"],
  );
  t.deepEqual(facts.signatures["/dev/loop2"], []);
  t.deepEqual(facts.commandErrors, { wipefs: 2 }, "the batch and the one device it then probes alone");
  t.is(facts.errors.length, 1);
});

test("discoverHost: failed lsblk and LVM are reported as incomplete, not as an empty host", async (t) => {
  const runner = recordedRunner({
    lsblk: fail("lsblk: unknown column: STATE", 1),
    lvm: { stdout: "", stderr: "  /run/lock/lvm: Permission denied", exitCode: 5 },
  });
  const facts = await discoverHost(runner, opts);
  t.deepEqual(facts.complete, { devices: false, lvm: false, mounts: true });
  t.deepEqual(facts.errors, [
    "lsblk failed (exit 1): lsblk: unknown column: STATE",
    "lvm fullreport failed (exit 5): /run/lock/lvm: Permission denied",
  ]);
  t.deepEqual([facts.devices, facts.candidates, facts.lvm.vgs], [[], [], []]);
  t.false(
    runner.calls.some((c) => c.cmd === "wipefs"),
    "nothing to probe",
  );
});

test("discoverHost: without LVM's system ID the LVM picture is incomplete (whose VGs they are is unknown)", async (t) => {
  const facts = await discoverHost(recordedRunner({ "lvm systemid": fail("  Locking failed", 5) }), opts);
  t.false(facts.complete.lvm);
  t.deepEqual(facts.errors, ["lvm systemid failed (exit 5): Locking failed"]);
  t.true(facts.complete.devices);
});

test("discoverHost: LVM exiting non-zero with a full JSON report is trusted and the warning kept", async (t) => {
  const runner = recordedRunner({
    lvm: {
      stdout: fixture("lvm-fullreport-partial.json"),
      stderr: fixture("lvm-fullreport-partial.stderr"),
      exitCode: 5,
    },
  });
  const facts = await discoverHost(runner, opts);
  t.true(facts.complete.lvm);
  t.true(facts.lvm.vgs.find((v) => v.name === "nlspartial")!.partial);
  t.is(facts.errors.length, 1);
  t.regex(facts.errors[0]!, /lvm fullreport failed \(exit 5\): WARNING: Couldn't find device/);
});

test("discoverHost: unreadable mountinfo is an error, mount points come from statfs below the root", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "nls-mounts-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, "disk-1"));
  const mountinfo = join(dir, "mountinfo");
  await writeFile(
    mountinfo,
    [
      `50 27 7:9 / ${dir}/disk-1 rw,relatime - ext4 /dev/loop9 rw`,
      `51 27 7:9 / ${dir}/gone ro,relatime - xfs /dev/loop8 ro`,
      "",
    ].join("\n"),
  );
  const facts = await discoverHost(recordedRunner(), { ...opts, mountRoot: dir, mountInfoPath: mountinfo });
  const [disk1, gone] = facts.mountPoints;
  t.is(disk1!.path, `${dir}/disk-1`);
  t.true(disk1!.total > 0 && disk1!.available <= disk1!.total);
  t.is(disk1!.statError, undefined);
  t.is(gone!.path, `${dir}/gone`);
  t.regex(gone!.statError!, /ENOENT/);
  t.true(facts.errors.some((e) => e.startsWith(`statfs ${dir}/gone`)));

  const missing = await discoverHost(recordedRunner(), { ...opts, mountInfoPath: join(dir, "nope") });
  t.false(missing.complete.mounts);
  t.true(missing.errors.some((e) => e.startsWith("reading mounts:")));
});

test("discoverHost: an lsblk without the MOUNTPOINTS column is asked again with MOUNTPOINT", async (t) => {
  const runner = fakeRunner((cmd, args) => {
    if (cmd === "lsblk" && args.join(" ").includes("MOUNTPOINTS")) return fail("lsblk: unknown column: MOUNTPOINTS");
    if (cmd === "lsblk") return ok(fixture("lsblk-mountpoint-column.json"));
    if (cmd === "lvm" && args[0] === "fullreport") return ok(fixture("lvm-fullreport-empty.json"));
    return recordedAnswer(cmd, args) ?? fail("unexpected", 127);
  });
  const facts = await discoverHost(runner, { ...opts, deviceGlobs: ["/dev/vd*"] });
  t.deepEqual(facts.errors, []);
  t.true(facts.complete.devices);
  t.deepEqual(facts.candidates, ["/dev/vda"]);
  t.deepEqual(
    runner.calls.map((c) => c.cmd),
    ["lsblk", "lvm", "lvm", "lsblk"],
    "vda is mounted, so nothing is probed",
  );
  t.deepEqual(facts.commandErrors, { lsblk: 1 });
});

test("discoverHost: stable symlinks that point to a listed device become aliases", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "nls-alias-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, "dev"));
  await mkdir(join(dir, "by-id"));
  await writeFile(join(dir, "dev", "sdb"), "");
  await writeFile(join(dir, "dev", "other"), "");
  await symlink("../dev/sdb", join(dir, "by-id", "wwn-0x5000c500a1b2c3d4"));
  await symlink("../dev/other", join(dir, "by-id", "not-a-listed-device"));
  await symlink("../dev/gone", join(dir, "by-id", "dangling"));
  const lsblk = { blockdevices: [{ name: "sdb", path: join(dir, "dev", "sdb"), size: 1024, type: "disk" }] };
  const runner = recordedRunner({ lsblk: ok(JSON.stringify(lsblk)), wipefs: ok("") });
  const facts = await discoverHost(runner, {
    ...opts,
    deviceGlobs: [join(dir, "dev", "*")],
    aliasDirs: [join(dir, "by-id"), join(dir, "missing")],
  });
  t.deepEqual(facts.aliases, { [join(dir, "by-id", "wwn-0x5000c500a1b2c3d4")]: join(dir, "dev", "sdb") });
});

test("discoverHost: LVM metadata backups name VGs that were not removed; a vgremove's leftover is not one", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "nls-backup-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "pool-0"), fixture("lvm-backup-live.txt"));
  await writeFile(join(dir, "old"), fixture("lvm-backup-removed.txt"));
  const facts = await discoverHost(recordedRunner(), { ...opts, lvmBackupDir: dir });
  t.deepEqual(facts.lvmBackups, ["pool-0"]);
  t.deepEqual((await discoverHost(recordedRunner(), opts)).lvmBackups, [], "no directory, no backups");
});
