import { readFile, readdir, readlink, stat } from "node:fs/promises";

/**
 * Which processes hold a block device open, read from a procfs (`/proc/<pid>/fd/*`), as fuser(1) finds
 * them. A program writing a raw block device leaves no signature, mount or holder behind, and LVM's
 * exclusive open does not stop it: an open file descriptor is the only trace. The kernel resolves
 * `/proc/<pid>/fd/<n>` to the open file whatever mount namespace opened it, so a container's device is
 * recognised by its `major:minor` even under a path of its own.
 */

/** One process holding some of the devices asked about open. */
export interface DeviceOpener {
  pid: number;
  /** `/proc/<pid>/comm`: the program's name, as ps shows it. */
  command: string;
  /** `major:minor` of each device asked about that the process has open. */
  majMins: string[];
}

/** `stat.rdev` → `major:minor`, as Linux encodes a dev_t (glibc's gnu_dev_major/minor). */
export function rdevToMajMin(rdev: number): string {
  const dev = BigInt(rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return `${major}:${minor}`;
}

/** What the processes are to a device, worded to follow the device's name; empty when none holds it. */
export function describeOpeners(openers: DeviceOpener[], majMin: string): string[] {
  const holding = openers.filter((o) => o.majMins.includes(majMin)).sort((a, b) => a.pid - b.pid);
  if (holding.length === 0) return [];
  const shown = holding.slice(0, 3).map((o) => `${o.pid} (${o.command})`);
  const more = holding.length > 3 ? ` and ${holding.length - 3} more` : "";
  return [`is open by process ${shown.join(", ")}${more}`];
}

/** File descriptors that are never a block device: no stat needed for them. */
const NOT_A_FILE = /^(socket|pipe|anon_inode|net|mnt|user|pid|ipc|uts|cgroup|time):/;

/**
 * Every process of `procRoot` but the caller that holds one of `majMins` open. A process that ends
 * while it is read is skipped. Throws when the processes cannot be read (the procfs is missing, or a
 * process's descriptors are not readable): then which devices are open is unknown.
 */
export async function readDeviceOpeners(procRoot: string, majMins: ReadonlySet<string>): Promise<DeviceOpener[]> {
  if (majMins.size === 0) return [];
  const entries = await readdir(procRoot);
  // `self` in a procfs names the reader in that procfs's PID namespace: the agent's own probes are not users.
  const self = await readlink(`${procRoot}/self`).catch(() => "");
  const pids = entries.filter((e) => /^\d+$/.test(e) && e !== self);
  const held = await Promise.all(pids.map((pid) => openedBy(`${procRoot}/${pid}`, majMins)));
  const holding = pids.flatMap((pid, i) => (held[i]!.length > 0 ? [{ pid: Number(pid), majMins: held[i]! }] : []));
  return Promise.all(
    holding.map(async (o) => ({
      ...o,
      command: (await readFile(`${procRoot}/${o.pid}/comm`, "utf8").catch(() => "?")).trim(),
    })),
  );
}

function gone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ESRCH";
}

async function openedBy(dir: string, majMins: ReadonlySet<string>): Promise<string[]> {
  let fds: string[];
  try {
    fds = await readdir(`${dir}/fd`);
  } catch (e) {
    if (gone(e)) return [];
    throw new Error(`reading ${dir}/fd: ${(e as Error).message}`);
  }
  const held = new Set<string>();
  for (const fd of fds) {
    const path = `${dir}/fd/${fd}`;
    const target = await readlink(path).catch(() => undefined);
    if (target === undefined || NOT_A_FILE.test(target)) continue;
    const s = await stat(path).catch(() => undefined);
    if (s?.isBlockDevice()) {
      const majMin = rdevToMajMin(s.rdev);
      if (majMins.has(majMin)) held.add(majMin);
    }
  }
  return [...held].sort();
}
