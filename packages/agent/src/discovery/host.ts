import { readFile, readdir, realpath, statfs } from "node:fs/promises";
import micromatch from "micromatch";
import { LSBLK_ARGS, LSBLK_ARGS_LEGACY, isUnknownColumnError, parseLsblk, type BlockDevice } from "./lsblk.js";
import { LOSETUP_ARGS, parseLosetup, type LoopDevice } from "./loops.js";
import { isRemovalBackup } from "./lvm-backup.js";
import { LVM_FULLREPORT_ARGS, LVM_SYSTEMID_ARGS, parseLvmReport, parseSystemId, type LvmReport } from "./lvm-report.js";
import { mountsUnder, parseMountInfo, type MountEntry } from "./mounts.js";
import { readDeviceOpeners, type DeviceOpener } from "./openers.js";
import { describeFailure, type CommandRunner } from "./run.js";
import { WIPEFS_ARGS, parseWipefs, type Signature } from "./signatures.js";

/**
 * One scan of the host: lsblk, mountinfo, the LVM report and LVM's system ID concurrently, then one
 * wipefs over all candidate devices and, when lsblk lists loop devices, one losetup. The command count
 * is constant (4 or 5, plus one wipefs per device only when the batch probe fails and the failing device
 * must be found). Failures become `errors`, never exceptions.
 */

export interface DiscoveryOptions {
  /** Which devices are candidates (micromatch globs on `/dev/…` paths; a glob without `/` means `/dev/<glob>`). */
  deviceGlobs: string[];
  /** Mount points strictly below this path are reported as `mountPoints`. */
  mountRoot: string;
  /** Per command; default `DEFAULT_COMMAND_TIMEOUT_MS` of the runner. */
  timeoutMs?: number;
  /** Where mounts are read from; `/proc/1/mountinfo` sees the host's mounts from a `hostPID` pod. */
  mountInfoPath?: string;
  /** Directories of stable device symlinks a spec may name devices by; default `DEFAULT_ALIAS_DIRS`. */
  aliasDirs?: string[];
  /** LVM's metadata backup directory (`backup/backup_dir`); default `DEFAULT_LVM_BACKUP_DIR`. */
  lvmBackupDir?: string;
  /** The procfs whose processes' open devices count as uses; default `DEFAULT_PROC_ROOT`. */
  procRoot?: string;
}

/** Whole disks and their partitions of SCSI/SATA, virtio, Xen and NVMe (open-local drops NVMe). */
export const DEFAULT_DEVICE_GLOBS: string[] = ["/dev/sd*", "/dev/vd*", "/dev/xvd*", "/dev/nvme*n*"];
export const DEFAULT_MOUNT_ROOT = "/mnt/open-local";
export const DEFAULT_MOUNTINFO_PATH = "/proc/self/mountinfo";
/** udev's stable names: `sdb` may be another disk after a reboot, `/dev/disk/by-id/…` may not. */
export const DEFAULT_ALIAS_DIRS = ["/dev/disk/by-id", "/dev/disk/by-path"];
/**
 * LVM keeps a copy of each VG's metadata here, one file named after the VG, and removes it with
 * `vgremove`: a file for a VG LVM does not report is a VG whose disks are gone, not one that was removed.
 */
export const DEFAULT_LVM_BACKUP_DIR = "/etc/lvm/backup";
/** A pod sees the host's processes through the host's procfs mounted at `/host/proc` (deploy/ does). */
export const DEFAULT_PROC_ROOT = "/proc";

export interface MountPointFacts extends MountEntry {
  total: number;
  available: number;
  /** Set when statfs failed: sizes are then 0 and the mount point is reported as faulty. */
  statError?: string;
}

export interface HostFacts {
  /** Every block device lsblk listed (flattened), with mountpoints merged from mountinfo. */
  devices: BlockDevice[];
  /** Paths of the devices matched by `deviceGlobs`, sorted: the ones reported and the only ones init may touch. */
  candidates: string[];
  /** Stable symlinks (e.g. `/dev/disk/by-id/…`) → the device path they point to, for listed devices only. */
  aliases: Record<string, string>;
  /** Signatures per probed candidate path; an empty list means "probed, nothing found". */
  signatures: Record<string, Signature[]>;
  /** Candidates whose signatures are unknown, with why (e.g. `Operation not permitted`). */
  probeErrors: Record<string, string>;
  mounts: MountEntry[];
  /** Mounts strictly below `mountRoot`, with statfs sizes. */
  mountPoints: MountPointFacts[];
  lvm: LvmReport;
  /**
   * The system ID LVM stamps on a VG it creates here and needs on a VG to use it (`lvm systemid`; empty
   * when none is configured). Without it the LVM picture is incomplete: which VGs are this host's is unknown.
   */
  lvmSystemId: string;
  /** VG names with a metadata backup in `lvmBackupDir` (none when the directory does not exist). */
  lvmBackups: string[];
  /**
   * Loop devices and their backing files; empty when lsblk lists none (losetup is not run then), and
   * `undefined` when they could not be listed (every loop device then counts as in use).
   */
  loops: LoopDevice[] | undefined;
  /**
   * Processes holding a candidate open that nothing else marks as used (no signature, not mounted),
   * the only ones asked about; `undefined` when the processes could not be read (those candidates
   * then count as in use).
   */
  openers: DeviceOpener[] | undefined;
  /** Which parts of the picture are known; a part that failed is empty, not absent, and listed in `errors`. */
  complete: { devices: boolean; lvm: boolean; mounts: boolean };
  errors: string[];
  /** Commands run during this scan, and how many of them failed (for metrics). */
  commandsRun: number;
  /** Host commands that failed or timed out during this scan, by command (lsblk, lvm, wipefs, losetup). */
  commandErrors: Record<string, number>;
  durationMs: number;
}

/** Globs as the user wrote them → absolute `/dev/…` globs. */
export function normaliseDeviceGlobs(globs: string[]): string[] {
  return globs
    .map((g) => g.trim())
    .filter((g) => g.length > 0)
    .map((g) => (g.startsWith("/") ? g : `/dev/${g}`));
}

/** Device types that are never candidates: optical drives and LVM's own LVs (reported as LVs). */
const NON_CANDIDATE_TYPES = new Set(["rom", "lvm"]);

export function selectCandidates(devices: BlockDevice[], globs: string[]): string[] {
  const patterns = normaliseDeviceGlobs(globs);
  return devices
    .filter((d) => !NON_CANDIDATE_TYPES.has(d.type) && micromatch.isMatch(d.name, patterns))
    .map((d) => d.name)
    .sort();
}

export async function discoverHost(runner: CommandRunner, opts: DiscoveryOptions): Promise<HostFacts> {
  const started = performance.now();
  const errors: string[] = [];
  let commandsRun = 0;
  const commandErrors: Record<string, number> = {};
  const run = async (cmd: string, args: string[]) => {
    commandsRun++;
    const r = await runner.run(cmd, args, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {});
    if (r.exitCode !== 0) commandErrors[cmd] = (commandErrors[cmd] ?? 0) + 1;
    return r;
  };
  const complete = { devices: false, lvm: false, mounts: false };

  const [firstLsblk, lvmOut, systemIdOut, mountText] = await Promise.all([
    run("lsblk", LSBLK_ARGS),
    run("lvm", LVM_FULLREPORT_ARGS),
    run("lvm", LVM_SYSTEMID_ARGS),
    readFile(opts.mountInfoPath ?? DEFAULT_MOUNTINFO_PATH, "utf8").catch((e: Error) => {
      errors.push(`reading mounts: ${e.message}`);
      return undefined;
    }),
  ]);

  let devices: BlockDevice[] = [];
  // Mounts are merged from mountinfo below, so the legacy single MOUNTPOINT column loses nothing.
  const lsblk =
    firstLsblk.exitCode !== 0 && isUnknownColumnError(firstLsblk.stderr)
      ? await run("lsblk", LSBLK_ARGS_LEGACY)
      : firstLsblk;
  if (lsblk.exitCode !== 0) errors.push(describeFailure("lsblk", lsblk));
  else {
    try {
      devices = parseLsblk(lsblk.stdout);
      complete.devices = true;
    } catch (e) {
      errors.push((e as Error).message);
    }
  }

  let lvm: LvmReport = { pvs: [], vgs: [], lvs: [] };
  let lvmSystemId = "";
  let reportRead = false;
  // LVM exits non-zero on warnings about unrelated devices yet prints a full report: trust the JSON.
  try {
    lvm = parseLvmReport(lvmOut.stdout);
    reportRead = true;
    if (lvmOut.exitCode !== 0) errors.push(describeFailure("lvm fullreport", lvmOut));
  } catch (e) {
    errors.push(lvmOut.exitCode !== 0 ? describeFailure("lvm fullreport", lvmOut) : (e as Error).message);
  }
  // Which VGs are this host's depends on the system ID: without it the LVM picture is not complete.
  let systemIdRead = false;
  try {
    if (systemIdOut.exitCode !== 0) throw new Error(describeFailure("lvm systemid", systemIdOut));
    lvmSystemId = parseSystemId(systemIdOut.stdout);
    systemIdRead = true;
  } catch (e) {
    errors.push((e as Error).message);
  }
  complete.lvm = reportRead && systemIdRead;

  let mounts: MountEntry[] = [];
  if (mountText !== undefined) {
    const parsed = parseMountInfo(mountText);
    mounts = parsed.mounts;
    complete.mounts = true;
    if (parsed.malformed.length > 0) errors.push(`mountinfo: ${parsed.malformed.length} unreadable line(s)`);
  }
  devices = withMounts(devices, mounts);

  const candidates = selectCandidates(devices, opts.deviceGlobs);
  const byName = new Map(devices.map((d) => [d.name, d]));
  // A mounted device is refused by every rule anyway, and the kernel may deny opening it (it does for
  // this machine's root disk): probing it would only turn every scan into an error.
  const [probe, loops] = await Promise.all([
    probeSignatures(
      candidates.map((c) => byName.get(c)!).filter((d) => d.size > 0 && d.mountpoints.length === 0),
      run,
    ),
    devices.some((d) => d.type === "loop") ? listLoops(run, errors) : Promise.resolve([]),
  ]);
  errors.push(...probe.errors);

  // After the probes, so that the agent's own wipefs is not among the processes holding a device open.
  const unmarked = candidates.filter((c) => probe.signatures[c]?.length === 0 && byName.get(c)!.majMin !== "");
  const [mountPoints, aliases, lvmBackups, openers] = await Promise.all([
    Promise.all(mountsUnder(mounts, opts.mountRoot).map(statMount)),
    readAliases(opts.aliasDirs ?? DEFAULT_ALIAS_DIRS, new Set(byName.keys())),
    readBackups(opts.lvmBackupDir ?? DEFAULT_LVM_BACKUP_DIR, errors),
    readDeviceOpeners(opts.procRoot ?? DEFAULT_PROC_ROOT, new Set(unmarked.map((c) => byName.get(c)!.majMin))).catch(
      (e: Error) => {
        errors.push(`reading which processes hold devices open: ${e.message}`);
        return undefined;
      },
    ),
  ]);
  for (const m of mountPoints) if (m.statError) errors.push(`statfs ${m.path}: ${m.statError}`);

  return {
    devices,
    candidates,
    aliases,
    signatures: probe.signatures,
    probeErrors: probe.probeErrors,
    mounts,
    mountPoints,
    lvm,
    lvmSystemId,
    lvmBackups,
    loops,
    openers,
    complete,
    errors,
    commandsRun,
    commandErrors,
    durationMs: performance.now() - started,
  };
}

/** lsblk may not see mounts made in another mount namespace; mountinfo by major:minor or source does. */
function withMounts(devices: BlockDevice[], mounts: MountEntry[]): BlockDevice[] {
  return devices.map((d) => {
    const extra = mounts.filter((m) => (d.majMin && m.majMin === d.majMin) || m.source === d.name).map((m) => m.path);
    const all = [...new Set([...d.mountpoints, ...extra])];
    return all.length === d.mountpoints.length ? d : { ...d, mountpoints: all };
  });
}

type Run = (cmd: string, args: string[]) => Promise<{ stdout: string; stderr: string; exitCode: number }>;

/**
 * One wipefs over every device; wipefs stops at the first device it cannot open, so only then is each
 * device probed on its own to learn which ones are unknown.
 */
async function probeSignatures(
  devices: BlockDevice[],
  run: Run,
): Promise<{ signatures: Record<string, Signature[]>; probeErrors: Record<string, string>; errors: string[] }> {
  const signatures: Record<string, Signature[]> = {};
  const probeErrors: Record<string, string> = {};
  const errors: string[] = [];
  if (devices.length === 0) return { signatures, probeErrors, errors };

  const record = (group: BlockDevice[], stdout: string): string | undefined => {
    try {
      const found = parseWipefs(stdout);
      for (const d of group) signatures[d.name] = found.get(d.kname) ?? [];
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };

  const batch = await run("wipefs", [...WIPEFS_ARGS, "--", ...devices.map((d) => d.name)]);
  if (batch.exitCode === 0) {
    const err = record(devices, batch.stdout);
    if (err === undefined) return { signatures, probeErrors, errors };
  }
  await Promise.all(
    devices.map(async (d) => {
      const r = await run("wipefs", [...WIPEFS_ARGS, "--", d.name]);
      const err = r.exitCode === 0 ? record([d], r.stdout) : describeFailure(`wipefs ${d.name}`, r);
      if (err !== undefined) {
        probeErrors[d.name] = err;
        errors.push(err);
      }
    }),
  );
  return { signatures, probeErrors, errors };
}

async function listLoops(run: Run, errors: string[]): Promise<LoopDevice[] | undefined> {
  const r = await run("losetup", LOSETUP_ARGS);
  if (r.exitCode !== 0) {
    errors.push(describeFailure("losetup", r));
    return undefined;
  }
  try {
    return parseLosetup(r.stdout);
  } catch (e) {
    errors.push((e as Error).message);
    return undefined;
  }
}

/** Symlinks in `dirs` that resolve to a known device; a directory that does not exist has none. */
async function readAliases(dirs: string[], known: Set<string>): Promise<Record<string, string>> {
  const pairs = await Promise.all(
    dirs.map(async (dir) => {
      const entries = await readdir(dir).catch(() => [] as string[]);
      return Promise.all(
        entries.map(async (e) => {
          const target = await realpath(`${dir}/${e}`).catch(() => undefined);
          return target !== undefined && known.has(target) ? ([`${dir}/${e}`, target] as const) : undefined;
        }),
      );
    }),
  );
  return Object.fromEntries(
    pairs
      .flat()
      .filter((p) => p !== undefined)
      .sort(),
  );
}

/**
 * VG names whose metadata backup says the VG was not removed. `vgremove -f` of a VG with LVs leaves the
 * backup written after its last `lvremove` (LVM 2.03), whose description names the `vgremove`: a VG
 * removed on purpose is not one whose disks went missing.
 */
async function readBackups(dir: string, errors: string[]): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      errors.push(`reading LVM backups in ${dir}: ${(e as Error).message}`);
    }
    return [];
  }
  const kept = await Promise.all(
    names.map(async (name) => {
      const text = await readFile(`${dir}/${name}`, "utf8").catch(() => "");
      return isRemovalBackup(text) ? undefined : name;
    }),
  );
  return kept.filter((n) => n !== undefined).sort();
}

async function statMount(m: MountEntry): Promise<MountPointFacts> {
  try {
    const s = await statfs(m.path);
    return { ...m, total: s.blocks * s.bsize, available: s.bavail * s.bsize };
  } catch (e) {
    return { ...m, total: 0, available: 0, statError: (e as Error).message };
  }
}
