import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import anyTest, { type ExecutionContext, type TestFn } from "ava";
import { discoverHost, type HostFacts } from "./discovery/host.js";
import { execaRunner, type CommandResult, type CommandRunner } from "./discovery/run.js";
import { applyInit, applyMountpoints } from "./init/apply.js";
import { planInit } from "./init/plan.js";
import { buildInventory } from "./inventory.js";
import { nextJournal } from "./journal.js";
import { buildStatus } from "./report.js";
import { createLogger } from "@nls/daemon";
import { Agent, DEFAULT_AGENT_CONFIG } from "./agent.js";
import { realHost } from "./host-port.js";
import { AgentMetrics } from "./metrics.js";
import { FakeKube } from "../testing/fake-kube.js";

/**
 * Real LVM on loop devices over sparse files (root only). Every test makes its own loop devices and
 * uniquely named VGs and removes them in teardown, also when it fails. Never touches a real disk:
 * discovery is limited to the test's own loop devices by the globs.
 */

const test = anyTest as TestFn;
const runner = execaRunner({ timeoutMs: 60_000 });
/** The kernel here has no device-mapper: LV metadata can be written, LVs cannot be activated. */
const NO_ACTIVATION = ["--config", "global { activation = 0 }"];
const MiB = 2 ** 20;
/** No test here sets up mount points except the one that passes its own root. */
const CTX = { mountRoot: "/nonexistent/nls-it" };

async function sh(cmd: string, args: string[]): Promise<CommandResult> {
  const r = await runner.run(cmd, args);
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.exitCode}): ${r.stderr.trim()}`);
  return r;
}

async function whyUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "not running as root";
  for (const tool of ["lvm", "losetup", "wipefs", "lsblk", "mkfs.ext4", "mount"]) {
    const r = await runner.run("sh", ["-c", `command -v ${tool}`]);
    if (r.exitCode !== 0) return `${tool} is not installed`;
  }
  const probe = await runner.run("losetup", ["-f"]);
  if (probe.exitCode !== 0) return `no free loop device: ${probe.stderr.trim()}`;
  return undefined;
}

const unavailable = await whyUnavailable();
const required = process.env.NLS_REQUIRE_REAL_TOOLS === "1";
const real: (title: string, fn: (t: ExecutionContext) => Promise<void>) => void =
  unavailable === undefined ? test.serial : test.serial.skip;
if (unavailable !== undefined) {
  if (required) {
    test("real LVM tools are required (NLS_REQUIRE_REAL_TOOLS=1)", (t) => t.fail(`cannot run: ${unavailable}`));
  } else {
    console.log(`# real LVM integration tests skipped: ${unavailable} (NLS_REQUIRE_REAL_TOOLS=1 makes this a failure)`);
  }
}

/** What the dirty-device matrix needs besides the suite's tools; missing ones skip (or, required, fail) it. */
async function matrixToolsMissing(): Promise<string | undefined> {
  for (const tool of ["mkfs.xfs", "mkswap", "sfdisk"]) {
    if ((await runner.run("sh", ["-c", `command -v ${tool}`])).exitCode !== 0) return `${tool} is not installed`;
  }
  return undefined;
}
const matrixMissing = unavailable === undefined ? await matrixToolsMissing() : unavailable;
const realMatrix: typeof real = matrixMissing === undefined ? test.serial : test.serial.skip;
if (matrixMissing !== undefined && unavailable === undefined) {
  if (required) test("the dirty-device matrix's tools are required", (t) => t.fail(`cannot run: ${matrixMissing}`));
  else console.log(`# dirty-device matrix skipped: ${matrixMissing}`);
}

/** A workspace whose loop devices, VGs and mounts are removed when the test ends, however it ends. */
async function workspace(t: ExecutionContext) {
  const dir = await mkdtemp(join(tmpdir(), "nls-it-"));
  const loops: string[] = [];
  const files = new Map<string, string>();
  const vgs: string[] = [];
  const mounts: string[] = [];
  const holders: ChildProcess[] = [];
  t.teardown(async () => {
    for (const h of holders) h.kill("SIGKILL");
    for (const m of mounts.reverse()) await runner.run("umount", [m]);
    for (const vg of vgs) {
      await runner.run("vgremove", [...NO_ACTIVATION, "-f", vg]);
      // vgremove -f of a VG with LVs leaves LVM's metadata backup behind: do not litter this machine.
      await rm(join("/etc/lvm/backup", vg), { force: true });
    }
    for (const l of loops) {
      await runner.run("pvremove", ["-f", l]); // only our own loop devices; a no-op if not a PV
      await runner.run("losetup", ["-d", l]);
    }
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir,
    async loop(sizeMiB = 64): Promise<string> {
      const file = join(dir, `disk-${loops.length}.img`);
      const fh = await open(file, "w");
      await fh.truncate(sizeMiB * MiB);
      await fh.close();
      const dev = (await sh("losetup", ["-f", "--show", file])).stdout.trim();
      loops.push(dev);
      files.set(dev, file);
      return dev;
    },
    /** The sparse file behind one of the workspace's loop devices. */
    file(dev: string): string {
      return files.get(dev)!;
    },
    /**
     * Writes `file` over the whole of `dev`, through the device: a disk replaced in place. The loop
     * device is never detached, so no other process on this machine can take its name meanwhile. Then
     * `pvscan --cache`, as udev's LVM rule runs on a host when a disk appears: LVM's device hints (the
     * set of devices is unchanged) would otherwise not look for a PV on `dev` again.
     */
    async overwrite(dev: string, file: string): Promise<void> {
      await sh("dd", [`if=${file}`, `of=${dev}`, "bs=1M", "conv=fsync", "status=none"]);
      await sh("pvscan", ["--cache", dev]);
    },
    vgName(): string {
      const name = `nlstest-${randomBytes(4).toString("hex")}`;
      vgs.push(name);
      return name;
    },
    async mount(dev: string, path: string, opts: string[] = []): Promise<void> {
      await mkdir(path, { recursive: true });
      await sh("mount", [...opts, dev, path]);
      mounts.push(path);
    },
    /** Bind-mounts a file (a device node, a disk image) onto a new empty file. */
    async bindFile(source: string, target: string): Promise<void> {
      await writeFile(target, "");
      await sh("mount", ["--bind", source, target]);
      mounts.push(target);
    },
    /** Starts a process that keeps `dev` open for reading and writing until the test ends. */
    async holdOpen(dev: string): Promise<void> {
      const holder = spawn("sh", ["-c", 'exec 3<>"$1" && exec sleep 600', "sh", dev], { stdio: "ignore" });
      holders.push(holder);
      await new Promise<void>((resolve, reject) => {
        holder.once("spawn", resolve);
        holder.once("error", reject);
      });
      // Until sh has opened the device and become sleep, the device is not held yet.
      for (let i = 0; i < 100; i++) {
        const comm = await readFile(`/proc/${holder.pid}/comm`, "utf8").catch(() => "");
        if (comm.trim() === "sleep") return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`the process holding ${dev} open did not start`);
    },
    /** Registers a mount made by the code under test, so teardown unmounts it. */
    track(path: string): void {
      mounts.push(path);
    },
    async umount(path: string): Promise<void> {
      await sh("umount", [path]);
      mounts.splice(mounts.indexOf(path), 1);
    },
  };
}

function discover(devices: string[], mountRoot = "/nonexistent/nls-it"): Promise<HostFacts> {
  return discoverHost(runner, { deviceGlobs: devices, mountRoot, timeoutMs: 60_000 });
}

async function report(
  cmd: "vgs" | "lvs" | "pvs",
  fields: string,
  select: string[],
): Promise<Array<Record<string, string>>> {
  const r = await sh(cmd, ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", fields, ...select]);
  return (JSON.parse(r.stdout) as { report: Array<Record<string, Array<Record<string, string>>>> }).report[0]![
    cmd.slice(0, 2)
  ]!;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Writes a DOS partition table with one Linux partition (what `sfdisk` would write), without sfdisk. */
async function writeDosPartitionTable(dev: string): Promise<void> {
  const mbr = Buffer.alloc(512);
  mbr.writeUInt32LE(0x6e6c7321, 440); // disk identifier
  mbr[446 + 4] = 0x83; // partition type: Linux
  mbr.writeUInt32LE(2048, 446 + 8); // first sector
  mbr.writeUInt32LE(16384, 446 + 12); // sectors
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  const fh = await open(dev, "r+");
  await fh.write(mbr, 0, 512, 0);
  await fh.close();
}

real("discovery reports exactly the VGs, PVs, LVs and sizes that vgs/lvs/pvs report", async (t) => {
  const ws = await workspace(t);
  const [a, b] = [await ws.loop(96), await ws.loop(64)];
  const vg = ws.vgName();
  await sh("vgcreate", [vg, a!, b!]);
  await sh("lvcreate", [...NO_ACTIVATION, "-an", "-Zn", "-L", "24M", "-n", "local-vol1", vg]);
  await sh("lvcreate", [...NO_ACTIVATION, "-an", "-Zn", "-L", "8M", "-n", "csi-vol2", vg]);
  await sh("lvcreate", [...NO_ACTIVATION, "-an", "-Zn", "-L", "16M", "-n", "unmanaged", vg]);

  const facts = await discover([a!, b!]);
  t.deepEqual(facts.complete, { devices: true, lvm: true, mounts: true });
  t.deepEqual(facts.candidates, [a, b].sort());
  // lsblk, lvm fullreport, lvm systemid, one wipefs over both devices, losetup (they are loop devices).
  t.true(facts.commandsRun <= 5, `ran ${facts.commandsRun} commands`);

  const [vgsRow] = await report("vgs", "vg_name,vg_size,vg_free,vg_free_count,lv_count", [vg]);
  const got = facts.lvm.vgs.find((v) => v.name === vg)!;
  t.deepEqual(
    [got.size, got.free, got.freeCount, got.lvCount],
    [Number(vgsRow!.vg_size), Number(vgsRow!.vg_free), Number(vgsRow!.vg_free_count), Number(vgsRow!.lv_count)],
  );
  const lvsRows = await report("lvs", "lv_name,lv_size", [vg]);
  t.deepEqual(
    facts.lvm.lvs.filter((l) => l.vgName === vg).map((l) => [l.name, l.size]),
    lvsRows.map((r) => [r.lv_name, Number(r.lv_size)]).sort(),
  );
  const pvsRows = await report("pvs", "pv_name,vg_name,pv_size,pv_free", ["-S", `vg_name=${vg}`]);
  t.deepEqual(
    facts.lvm.pvs.filter((p) => p.vgName === vg).map((p) => [p.name, p.size, p.free]),
    pvsRows.map((r) => [r.pv_name, Number(r.pv_size), Number(r.pv_free)]).sort(),
  );

  const inv = buildInventory(facts, { lvPrefix: "local", storageReserved: JSON.stringify({ [vg]: "50%" }) });
  const reported = inv.volumeGroups.find((v) => v.name === vg)!;
  t.deepEqual(reported.physicalVolumes, [a, b].sort());
  t.is(reported.total, Number(vgsRow!.vg_size));
  t.is(reported.available, Number(vgsRow!.vg_free));
  // unmanaged (16Mi) is subtracted; the 50% reservation caps lower still.
  t.is(reported.allocatable, Math.min(reported.total - 16 * MiB, reported.total - Math.ceil(reported.total / 2)));
  t.deepEqual(
    inv.deviceInfo.map((d) => [d.name, d.total]),
    [
      [a, 96 * MiB],
      [b, 64 * MiB],
    ].sort(),
  );
});

real("resourceToBeInited creates a VG on clean loop devices, then leaves it alone", async (t) => {
  const ws = await workspace(t);
  const [a, b] = [await ws.loop(), await ws.loop()];
  const vg = ws.vgName();
  const spec = { vgs: [{ name: vg, devices: [a!, b!] }] };

  const { outcomes } = await createAsAgent(spec, [a!, b!]);
  t.deepEqual(outcomes, [{ vg, result: "created", devices: [a!, b!] }]);

  const rows = await report("pvs", "pv_name,vg_name", ["-S", `vg_name=${vg}`]);
  t.deepEqual(rows.map((r) => r.pv_name).sort(), [a, b].sort());

  const again = planInit(spec, await discover([a!, b!]), CTX);
  t.deepEqual(again.vgs[0]!, { vg, action: "exists", devices: [a!, b!], reasons: [], commands: [] });
});

real(
  "refuses ext4 with a file, a partition table, another VG's PV and a mounted device; nothing changes",
  async (t) => {
    const ws = await workspace(t);
    const [ext4, dos, foreign, mounted, clean] = [
      await ws.loop(),
      await ws.loop(),
      await ws.loop(),
      await ws.loop(),
      await ws.loop(),
    ];
    const devices = [ext4!, dos!, foreign!, mounted!, clean!];

    // No lazy init: the kernel would otherwise zero inode tables in the background after the mount.
    await sh("mkfs.ext4", ["-q", "-E", "lazy_itable_init=0,lazy_journal_init=0", ext4!]);
    const mnt = join(ws.dir, "mnt");
    await ws.mount(ext4!, mnt);
    await writeFile(join(mnt, "precious.txt"), `data ${randomBytes(16).toString("hex")}\n`);
    const fileSum = createHash("sha256")
      .update(await readFile(join(mnt, "precious.txt")))
      .digest("hex");
    await ws.umount(mnt);

    await writeDosPartitionTable(dos!);
    const otherVg = ws.vgName();
    await sh("vgcreate", [otherVg, foreign!]);
    await sh("mkfs.ext4", ["-q", mounted!]);
    await ws.mount(mounted!, join(ws.dir, "busy"));
    await writeFile(join(ws.dir, "busy", "note.txt"), "still here\n");

    // The mounted filesystem is the kernel's to change (ext4 journal, lazy init): it is compared by its
    // contents instead of its bytes.
    const idle = devices.filter((d) => d !== mounted);
    const before = new Map(await Promise.all(idle.map(async (d) => [d, await sha256(d)] as const)));
    const sigsBefore = (await sh("wipefs", ["-n", "-J", ...idle])).stdout;

    const targetVg = ws.vgName();
    const facts = await discover(devices);
    const cases: Array<[string, RegExp]> = [
      [ext4!, /carries filesystem ext4/],
      [dos!, /carries partition table dos/],
      [foreign!, new RegExp(`is a physical volume of VG ${otherVg}`)],
      [mounted!, /is mounted at .*busy/],
    ];
    for (const [dev, why] of cases) {
      // Each bad device is paired with the clean one: the whole VG must be refused, the clean one untouched.
      const plan = planInit({ vgs: [{ name: targetVg, devices: [clean!, dev] }] }, facts, CTX);
      t.is(plan.vgs[0]!.action, "refused", dev);
      t.regex(plan.vgs[0]!.reasons.join("; "), why);
      const outcomes = await applyInit(plan, runner);
      t.is(outcomes[0]!.result, "refused");
    }

    for (const d of idle) t.is(await sha256(d), before.get(d)!, `${d} unchanged`);
    t.is((await sh("wipefs", ["-n", "-J", ...idle])).stdout, sigsBefore);
    t.is(await readFile(join(ws.dir, "busy", "note.txt"), "utf8"), "still here\n");
    t.is((await runner.run("vgs", [targetVg])).exitCode, 5, "target VG was not created");
    t.deepEqual(
      (await report("pvs", "pv_name,vg_name", [foreign!])).map((r) => r.vg_name),
      [otherVg],
    );

    await ws.mount(ext4!, mnt, ["-o", "ro"]);
    const after = createHash("sha256")
      .update(await readFile(join(mnt, "precious.txt")))
      .digest("hex");
    t.is(after, fileSum);
  },
);

real("vgcreate's own prompt is never answered: a signature appearing after the plan still stops it", async (t) => {
  const ws = await workspace(t);
  const dev = await ws.loop();
  const vg = ws.vgName();
  const spec = { vgs: [{ name: vg, devices: [dev] }] };
  const facts = await discover([dev]);
  const journal = nextJournal(undefined, facts, planInit(spec, facts, CTX));
  const plan = planInit(spec, facts, { ...CTX, journal });
  t.like(plan.vgs[0], { action: "create", recorded: true });
  await sh("mkfs.ext4", ["-q", dev]); // the race: a filesystem lands between plan and apply
  const sum = await sha256(dev);
  const [outcome] = await applyInit(plan, runner);
  t.is(outcome!.result, "failed");
  t.regex(outcome!.reason!, /vgcreate failed \(exit 5\): WARNING: ext4 signature detected.*Aborted wiping of ext4/);
  t.is(await sha256(dev), sum);
  t.regex((await sh("wipefs", ["-n", "-J", dev])).stdout, /"type": "ext4"/);
});

real(
  "resourceToBeInited.mountpoints: mkfs + mount a clean device, remount it after umount, refuse a foreign fs",
  async (t) => {
    const ws = await workspace(t);
    const [clean, foreign] = [await ws.loop(), await ws.loop()];
    const root = join(ws.dir, "mnt");
    const path = join(root, "disk-1");
    const spec = { mountpoints: [{ path, device: clean!, options: ["noatime"] }] };
    const discoverHere = () =>
      discoverHost(runner, { deviceGlobs: [clean!, foreign!], mountRoot: root, timeoutMs: 60_000 });

    const here = { mountRoot: root };
    const plan = planInit(spec, await discoverHere(), here);
    t.is(plan.mountpoints![0]!.action, "create", plan.mountpoints![0]!.reasons.join("; "));
    const outcomes = await applyMountpoints(plan, runner);
    ws.track(path);
    t.deepEqual(outcomes, [{ path, device: clean!, result: "created" }]);

    const facts = await discoverHere();
    t.deepEqual(
      facts.mountPoints.map((m) => [m.path, m.source, m.fsType, m.options.includes("noatime")]),
      [[path, clean!, "ext4", true]],
    );
    t.true(facts.mountPoints[0]!.total > 0);
    t.is(planInit(spec, facts, here).mountpoints![0]!.action, "exists");

    // After a reboot (here: umount) nls' labelled filesystem is mounted again, not formatted again.
    await writeFile(join(path, "kept.txt"), "kept\n");
    await ws.umount(path);
    const again = planInit(spec, await discoverHere(), here);
    t.is(again.mountpoints![0]!.action, "mount");
    t.deepEqual(await applyMountpoints(again, runner), [{ path, device: clean!, result: "mounted" }]);
    ws.track(path);
    t.is(await readFile(join(path, "kept.txt"), "utf8"), "kept\n");

    await sh("mkfs.ext4", ["-q", "-L", "data", foreign!]);
    const sum = await sha256(foreign!);
    const refused = planInit(
      { mountpoints: [{ path: join(root, "disk-2"), device: foreign! }] },
      await discoverHere(),
      here,
    );
    t.is(refused.mountpoints![0]!.action, "refused");
    t.regex(refused.mountpoints![0]!.reasons.join("; "), /carries filesystem ext4 .*\(label data\)/);
    t.deepEqual(await applyMountpoints(refused, runner), [
      {
        path: join(root, "disk-2"),
        device: foreign!,
        result: "refused",
        reason: refused.mountpoints![0]!.reasons.join("; "),
      },
    ]);
    t.is(await sha256(foreign!), sum);
  },
);

real("nls-agent scan prints what discovery finds, plans init without running it", async (t) => {
  const ws = await workspace(t);
  const [a, b] = [await ws.loop(64), await ws.loop(32)];
  const vg = ws.vgName();
  await sh("vgcreate", [vg, a!]);
  await sh("lvcreate", [...NO_ACTIVATION, "-an", "-Zn", "-L", "8M", "-n", "scratch", vg]);
  const specFile = join(ws.dir, "spec.yaml");
  const target = ws.vgName();
  await writeFile(
    specFile,
    [
      "listConfig:",
      `  vgs: {include: ["nlstest-.*"]}`,
      `  devices: {include: ["/dev/loop[0-9]+"]}`,
      "resourceToBeInited:",
      `  vgs: [{name: ${target}, devices: ["${b}"]}]`,
      "",
    ].join("\n"),
  );
  const cli = new URL("cli.ts", import.meta.url).pathname;
  const args = ["--import=tsx", cli, "scan", "--devices", `${a},${b}`, "--spec", specFile, "--node-name", "it"];
  const json = await runner.run(process.execPath, [...args, "-o", "json"]);
  t.is(json.exitCode, 0, json.stderr);
  const nls = JSON.parse(json.stdout);
  const [row] = await report("vgs", "vg_name,vg_size,vg_free", [vg]);
  const reported = nls.status.nodeStorageInfo.volumeGroups.find((v: { name: string }) => v.name === vg);
  t.deepEqual(
    [reported.total, reported.available, reported.allocatable, reported.physicalVolumes],
    [Number(row!.vg_size), Number(row!.vg_free), Number(row!.vg_size) - 8 * MiB, [a]],
  );
  t.true(nls.status.filteredStorageInfo.volumeGroups.includes(vg));
  // a is the VG's PV: selected, in use, not offered; b is free.
  t.deepEqual(nls.status.filteredStorageInfo.devices, [b]);
  t.deepEqual(nls.status.nodeStorageInfo.deviceInfo.find((d: { name: string }) => d.name === a).inUse, [
    `is a physical volume of VG ${vg}`,
  ]);
  t.is(nls.status.summary.devicesInUse, `${a} (is a physical volume of VG ${vg})`);

  const yaml = await runner.run(process.execPath, args);
  t.is(yaml.exitCode, 0, yaml.stderr);
  t.true(
    yaml.stdout.includes(`#   VG ${target} [${b}]: create\n#     $ vgcreate -- ${target} ${b}\n`),
    yaml.stdout.slice(0, 800),
  );
  t.is((await runner.run("vgs", [target])).exitCode, 5, "scan did not create the VG");
  t.deepEqual(JSON.parse((await sh("wipefs", ["-n", "-J", b!])).stdout || `{"signatures": []}`).signatures, []);
});

real(
  "another host's VG (system ID) is neither reported nor touched; an identity no local VG carries refuses creation",
  async (t) => {
    const ws = await workspace(t);
    const [theirs, spare] = [await ws.loop(), await ws.loop()];
    const foreign = ws.vgName();
    const otherHost = ["--config", 'global { system_id_source = "lvmlocal" } local { system_id = "nls-other-host" }'];
    await sh("vgcreate", [...otherHost, foreign, theirs!]);
    // Registered after the workspace, so it runs first: only the other host's identity may remove its VG.
    const asOtherHost = [
      "--config",
      'global { system_id_source = "lvmlocal" activation = 0 } local { system_id = "nls-other-host" }',
    ];
    t.teardown(async () => {
      const r = await runner.run("vgremove", [...asOtherHost, "-f", foreign]);
      if (r.exitCode !== 0) console.log(`# could not remove ${foreign}: ${r.stderr.trim()}`);
    });
    const sum = await sha256(spare!);

    const facts = await discover([theirs!, spare!]);
    t.true(facts.complete.lvm);
    t.is(facts.lvm.vgs.find((v) => v.name === foreign)?.systemId, "nls-other-host", "seen with --foreign");
    const inv = buildInventory(facts, { lvPrefix: "local" });
    t.false(inv.volumeGroups.some((v) => v.name === foreign));
    t.true(inv.problems.some((p) => p.startsWith(`VG ${foreign} belongs to system ID nls-other-host`)));
    const again = planInit({ vgs: [{ name: foreign, devices: [spare!] }] }, facts, CTX).vgs[0]!;
    t.is(again.action, "exists");
    t.regex(again.reasons[0]!, /belongs to system ID nls-other-host, not this host's; left unchanged/);

    // The agent's LVM with an identity of its own (what a container's hostname or machine-id gives).
    const dir = join(ws.dir, "lvm-etc");
    await mkdir(dir);
    await writeFile(
      join(dir, "lvm.conf"),
      'global { system_id_source = "lvmlocal" }\nlocal { system_id = "agent-pod-1" }\n',
    );
    const previous = process.env.LVM_SYSTEM_DIR;
    process.env.LVM_SYSTEM_DIR = dir;
    try {
      const asPod = await discover([theirs!, spare!]);
      t.is(asPod.lvmSystemId, "agent-pod-1");
      const target = ws.vgName();
      const plan = planInit({ vgs: [{ name: target, devices: [spare!] }] }, asPod, CTX);
      t.is(plan.vgs[0]!.action, "refused");
      t.regex(plan.vgs[0]!.reasons.join("; "), /would stamp the new VG with system ID agent-pod-1/);
      t.deepEqual(
        (await applyInit(plan, runner)).map((o) => o.result),
        ["refused"],
      );
    } finally {
      if (previous === undefined) delete process.env.LVM_SYSTEM_DIR;
      else process.env.LVM_SYSTEM_DIR = previous;
    }
    t.is(await sha256(spare!), sum, "the spare device is untouched");
  },
);

realMatrix(
  "dirty devices selected by listConfig.devices: none is offered or initialised, each says why, nothing changes",
  async (t) => {
    const ws = await workspace(t);
    const make = async (sizeMiB = 64) => ws.loop(sizeMiB);
    const d = {
      ext4: await make(),
      xfs: await make(320), // mkfs.xfs wants 300 MB at least
      swap: await make(),
      gpt: await make(),
      dos: await make(),
      pv: await make(),
      mounted: await make(),
      nodeBind: await make(),
      fileBind: await make(),
      held: await make(),
      clean: await make(),
    };
    await sh("mkfs.ext4", ["-q", "-E", "lazy_itable_init=0,lazy_journal_init=0", d.ext4]);
    const mnt = join(ws.dir, "ext4");
    await ws.mount(d.ext4, mnt);
    await writeFile(join(mnt, "precious.txt"), `data ${randomBytes(16).toString("hex")}\n`);
    await ws.umount(mnt);
    await sh("mkfs.xfs", ["-q", d.xfs]);
    await sh("mkswap", [d.swap]);
    for (const [dev, table] of [
      [d.gpt, "label: gpt\n"], // an empty GPT: no partition at all
      [d.dos, "label: dos\nstart=2048, size=16384, type=83\n"],
    ] as const) {
      const r = await runner.run("sfdisk", ["-q", "--no-reread", dev], { input: table });
      t.is(r.exitCode, 0, r.stderr);
    }
    const otherVg = ws.vgName();
    await sh("vgcreate", [otherVg, d.pv]);
    await sh("mkfs.ext4", ["-q", d.mounted]);
    await ws.mount(d.mounted, join(ws.dir, "busy"));
    // A raw block volume as kubelet publishes it: the device node bind-mounted, no filesystem anywhere.
    await ws.bindFile(d.nodeBind, join(ws.dir, "raw-volume"));
    // A loop device whose backing file someone else has mounted too.
    await ws.bindFile(ws.file(d.fileBind), join(ws.dir, "image-elsewhere"));
    // A program with the raw device open (a database on a raw disk): no signature, mount or holder.
    await ws.holdOpen(d.held);

    const all = Object.values(d);
    const idle = all.filter((x) => x !== d.mounted);
    const sums = new Map(await Promise.all(idle.map(async (x) => [x, await sha256(x)] as const)));
    const sigs = (await sh("wipefs", ["-n", "-J", ...idle])).stdout;

    const facts = await discover(all);
    const spec = { listConfig: { devices: { include: ["/dev/loop[0-9]+"] } } };
    const status = buildStatus(facts, { spec }, { lvPrefix: "local", now: new Date() });
    t.deepEqual(status.filteredStorageInfo!.devices, [d.clean], "only the clean device is offered");
    const why: Record<keyof typeof d, RegExp | undefined> = {
      ext4: /^carries filesystem ext4 /,
      xfs: /^carries filesystem xfs /,
      swap: /^carries filesystem swap /,
      gpt: /^carries partition table gpt at offset 0x200, partition table gpt at offset 0x3fffe00, partition table PMBR/,
      dos: /^carries partition table dos at offset 0x1fe$/,
      pv: new RegExp(`^is a physical volume of VG ${otherVg}$`),
      mounted: /^is mounted at .*\/busy$/,
      nodeBind: /^its device node is bind-mounted at .*\/raw-volume$/,
      fileBind: /^its backing file .*\/disk-8\.img is also mounted at .*\/image-elsewhere$/,
      held: /^is open by process \d+ \(sleep\)$/,
      clean: undefined,
    };
    const info = new Map(status.nodeStorageInfo!.deviceInfo!.map((x) => [x.name, x.inUse]));
    for (const [key, dev] of Object.entries(d) as Array<[keyof typeof d, string]>) {
      const reasons = info.get(dev);
      if (why[key] === undefined) t.is(reasons, undefined, `${key} is free`);
      else t.regex((reasons ?? []).join("; "), why[key]!, key);
    }
    t.regex(status.summary!.devicesInUse!, new RegExp(`${d.nodeBind} \\(its device node is bind-mounted`));

    // And initialisation refuses each of them, paired with the clean device, which stays untouched.
    const target = ws.vgName();
    for (const dev of all.filter((x) => x !== d.clean)) {
      const plan = planInit({ vgs: [{ name: target, devices: [d.clean, dev] }] }, facts, CTX);
      t.is(plan.vgs[0]!.action, "refused", dev);
      t.deepEqual(
        (await applyInit(plan, runner)).map((o) => o.result),
        ["refused"],
      );
    }
    for (const x of idle) t.is(await sha256(x), sums.get(x)!, `${x} unchanged`);
    t.is((await sh("wipefs", ["-n", "-J", ...idle])).stdout, sigs);
    t.is((await runner.run("vgs", [target])).exitCode, 5, "target VG was not created");
  },
);

/** Plans and applies as the agent does across passes: record the intent, then create. */
async function createAsAgent(spec: { vgs: Array<{ name: string; devices: string[] }> }, devices: string[]) {
  const facts = await discover(devices);
  const recorded = nextJournal(undefined, facts, planInit(spec, facts, CTX));
  const outcomes = await applyInit(planInit(spec, facts, { ...CTX, journal: recorded }), runner);
  return { outcomes, journal: nextJournal(recorded, await discover(devices), { vgs: [] }) };
}

real("a VG whose disk disappears is not created again on the blank disk that takes the disk's name", async (t) => {
  const ws = await workspace(t);
  const dev = await ws.loop();
  const vg = ws.vgName();
  const spec = { vgs: [{ name: vg, devices: [dev] }] };
  const { outcomes, journal } = await createAsAgent(spec, [dev]);
  t.deepEqual(
    outcomes.map((o) => o.result),
    ["created"],
  );
  t.true(journal.seenVolumeGroups.includes(vg));

  // The disk goes; a blank one takes its kernel name (its bytes are kept aside, then zeroed in place).
  const oldDisk = join(ws.dir, "old-disk.img");
  await sh("dd", [`if=${dev}`, `of=${oldDisk}`, "bs=1M", "conv=sparse", "status=none"]);
  const blank = join(ws.dir, "blank.img");
  await writeFile(blank, "");
  await truncate(blank, 64 * MiB);
  await ws.overwrite(dev, blank);
  t.teardown(async () => {
    // Give the VG its disk back, so the workspace can remove it (and LVM its backup of it).
    await ws.overwrite(dev, oldDisk);
  });
  const blankSum = await sha256(dev);
  const facts = await discover([dev]);
  t.false(
    facts.lvm.vgs.some((v) => v.name === vg),
    "LVM no longer reports it",
  );
  for (const memory of [{ journal }, {}]) {
    // With the journal, and without it (a new NodeLocalStorage): LVM's metadata backup still remembers.
    const plan = planInit(spec, facts, { ...CTX, ...memory });
    t.is(plan.vgs[0]!.action, "refused");
    t.regex(plan.vgs[0]!.reasons[0]!, new RegExp(`^VG ${vg} existed on this node and LVM does not report it now`));
    t.deepEqual(
      (await applyInit(plan, runner)).map((o) => o.result),
      ["refused"],
    );
  }
  const status = buildStatus(
    facts,
    { spec: { resourceToBeInited: spec } },
    { lvPrefix: "local", now: new Date(), journal },
  );
  t.is(status.nodeStorageInfo!.state!.reason, "VolumeGroupMissing");
  t.is(await sha256(dev), blankSum, "the blank disk is untouched");
  t.deepEqual(JSON.parse((await sh("wipefs", ["-n", "-J", dev])).stdout || `{"signatures": []}`).signatures, []);
});

real("PV labels an interrupted vgcreate left are the agent's own: the next pass finishes the VG", async (t) => {
  const ws = await workspace(t);
  const [a, b] = [await ws.loop(), await ws.loop()];
  const vg = ws.vgName();
  const spec = { vgs: [{ name: vg, devices: [a!, b!] }] };
  // Pass 1 recorded the intent; vgcreate then labelled the first PV and was killed before writing the VG.
  const before = await discover([a!, b!]);
  const journal = nextJournal(undefined, before, planInit(spec, before, CTX));
  t.deepEqual(journal.creating, [{ name: vg, devices: [a, b] }]);
  await sh("pvcreate", ["-q", a!]);

  const facts = await discover([a!, b!]);
  t.deepEqual(
    facts.lvm.pvs.filter((p) => p.name === a).map((p) => [p.vgName, p.mdaCount]),
    [["", 1]],
  );
  // Without the record, that label is someone's: refused, as before.
  t.deepEqual(planInit(spec, facts, CTX).vgs[0]!.reasons, [`${a}: is already an LVM physical volume`]);
  const plan = planInit(spec, facts, { ...CTX, journal });
  t.like(plan.vgs[0], { action: "create", recorded: true });
  t.deepEqual(
    (await applyInit(plan, runner)).map((o) => o.result),
    ["created"],
  );
  const rows = await report("pvs", "pv_name,vg_name", ["-S", `vg_name=${vg}`]);
  t.deepEqual(rows.map((r) => r.pv_name).sort(), [a, b].sort());
  t.is(nextJournal(journal, await discover([a!, b!]), { vgs: [] }).creating, undefined, "the record is done with");
});

/** Commands that are LVM: the `lvm` binary and its per-command links (`vgs`, `lvcreate`, …). */
const isLvm = (cmd: string) => cmd === "lvm" || /^(pv|vg|lv)[a-z]+$/.test(cmd);

real("a scan runs LVM a fixed number of times whatever the LV count; a steady node writes nothing", async (t) => {
  const ws = await workspace(t);
  const devices: string[] = [];
  for (let i = 0; i < 16; i++) devices.push(await ws.loop(64));
  const vgs = [0, 1, 2, 3].map(() => ws.vgName());
  for (const [i, vg] of vgs.entries())
    await sh("vgcreate", [...NO_ACTIVATION, vg, devices[2 * i]!, devices[2 * i + 1]!]);
  const calls: string[] = [];
  const counting: CommandRunner = {
    run: (cmd, args, opts) => {
      calls.push(cmd);
      return runner.run(cmd, args, opts);
    },
  };
  const host = realHost(counting, {
    deviceGlobs: devices,
    mountRoot: CTX.mountRoot,
    lvPrefix: "local",
    timeoutMs: 60_000,
  });
  const lvmRuns = async () => {
    calls.length = 0;
    const facts = await host.discover();
    return { facts, lvm: calls.filter(isLvm).length };
  };
  const empty = await lvmRuns();
  for (let i = 0; i < 40; i++) {
    await sh("lvcreate", [...NO_ACTIVATION, "-an", "-Zn", "-L", "4M", "-n", `local-v${i}`, vgs[i % 4]!]);
  }
  const full = await lvmRuns();
  t.is(full.facts.lvm.lvs.filter((l) => vgs.includes(l.vgName)).length, 40);
  t.is(full.lvm, empty.lvm, "40 LVs more, not one LVM command more");
  t.true(full.lvm <= 3, `${full.lvm} LVM commands per scan`);

  // The agent's loop over this host, against the in-memory API server: after the first status,
  // ten passes over an unchanged host write nothing.
  const kube = new FakeKube();
  kube.addNode("it-node");
  kube.addInitConfig({
    metadata: { name: "open-local" },
    spec: { globalConfig: { listConfig: { vgs: { include: vgs }, devices: { include: devices } } } },
  });
  let now = new Date("2026-05-01T10:00:00Z");
  const agent = new Agent({
    kube,
    host,
    metrics: new AgentMetrics({ defaultMetrics: false }),
    log: createLogger("nls-agent", "silent"),
    clock: () => now,
    config: {
      ...DEFAULT_AGENT_CONFIG,
      nodeName: "it-node",
      initConfigName: "open-local",
      leaseNamespace: "nls-node-lease",
      eventNamespace: "kube-system",
    },
  });
  await agent.reconcile();
  const status = kube.nls.get("it-node")!.status!;
  t.deepEqual([...status.filteredStorageInfo!.volumeGroups!].sort(), [...vgs].sort());
  const writes = kube.writes.length;
  for (let i = 0; i < 10; i++) {
    now = new Date(now.getTime() + 60_000);
    t.false((await agent.reconcile()).wroteStatus);
  }
  t.is(kube.writes.length, writes, "0 API writes over 10 steady scans");
});
