/**
 * Mount state from `/proc/self/mountinfo` (proc(5)). Unlike `/proc/mounts` it carries the device's
 * major:minor (so a device is recognised as mounted whatever path it was mounted by) and the root of
 * the mount inside its filesystem (so bind mounts of a subdirectory are recognisable).
 */

export interface MountEntry {
  /** Mount point path, octal escapes decoded. */
  path: string;
  /** `major:minor` of the mounted filesystem's device. */
  majMin: string;
  /** The directory of the filesystem that is mounted here; not `/` for a bind mount of a subdirectory. */
  root: string;
  fsType: string;
  /** Mount source, e.g. `/dev/vdb1`, `tmpfs`. */
  source: string;
  /** Per-mount options (`rw`, `relatime`, …). */
  options: string[];
  readOnly: boolean;
}

/** Parses mountinfo text. Malformed lines are skipped and returned so they can be reported. */
export function parseMountInfo(text: string): { mounts: MountEntry[]; malformed: string[] } {
  const mounts: MountEntry[] = [];
  const malformed: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    // Fields: id parent major:minor root mountpoint options [optional fields…] - fstype source superoptions
    const fields = line.split(" ");
    const dash = fields.indexOf("-", 6);
    if (fields.length < 10 || dash < 0 || dash + 2 >= fields.length) {
      malformed.push(line);
      continue;
    }
    const options = fields[5]!.split(",");
    mounts.push({
      path: unescapeOctal(fields[4]!),
      majMin: fields[2]!,
      root: unescapeOctal(fields[3]!),
      fsType: fields[dash + 1]!,
      source: unescapeOctal(fields[dash + 2]!),
      options,
      readOnly: options.includes("ro"),
    });
  }
  return { mounts, malformed };
}

/** The kernel escapes space, tab, newline and backslash in paths as `\040` etc. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * The mounts that are storage for the mountpoint volume type: strictly below `mountRoot`
 * (open-local's convention, e.g. `/mnt/open-local/disk-1`). When a path is mounted over, the last
 * (topmost) mount wins, as in the kernel. Sorted by path.
 */
export function mountsUnder(mounts: MountEntry[], mountRoot: string): MountEntry[] {
  const root = mountRoot.replace(/\/+$/, "");
  if (root === "") return [];
  const byPath = new Map<string, MountEntry>();
  for (const m of mounts) if (m.path.startsWith(`${root}/`)) byPath.set(m.path, m);
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Where device nodes are bind-mounted, by device path (`/dev/vdc` → mount paths). A raw block volume
 * is such a bind mount (kubelet and CSI drivers publish `/dev/vdc` at a path of their own): the device
 * is in use although nothing mounted a filesystem from it. The node is recognised as a mount whose
 * filesystem is the one mounted at `/dev` (or a devtmpfs) and whose root is not that filesystem's root.
 */
export function deviceNodeBinds(mounts: MountEntry[]): Map<string, string[]> {
  const devRoots = new Map<string, string>(); // majMin of /dev's filesystem → its root
  for (const m of mounts) if (m.path === "/dev") devRoots.set(m.majMin, m.root);
  for (const m of mounts) if (m.fsType === "devtmpfs" && !devRoots.has(m.majMin)) devRoots.set(m.majMin, "/");
  const out = new Map<string, string[]>();
  for (const m of mounts) {
    const root = devRoots.get(m.majMin);
    if (root === undefined || m.path === "/dev" || m.root === root) continue;
    const prefix = root === "/" ? "" : root;
    if (!m.root.startsWith(`${prefix}/`)) continue;
    const node = `/dev${m.root.slice(prefix.length)}`;
    out.set(node, [...(out.get(node) ?? []), m.path]);
  }
  return out;
}

/**
 * The mounts that make a file visible at another path: bind mounts of it elsewhere, and the mount at
 * `path` itself when the file is a bind mount. `majMin` is the file's filesystem (as the kernel reports
 * a loop device's backing file); `path` is resolved through the mount table to its path inside that
 * filesystem.
 */
export function bindMountsOfFile(mounts: MountEntry[], path: string, majMin: string): string[] {
  let holder: MountEntry | undefined;
  for (const m of mounts) {
    if (m.majMin !== majMin) continue;
    const covers = m.path === "/" || m.path === path || path.startsWith(`${m.path}/`);
    if (covers && (!holder || m.path.length >= holder.path.length)) holder = m;
  }
  if (!holder) return [];
  if (holder.path === path) return [path];
  const rel = holder.path === "/" ? path : path.slice(holder.path.length);
  const inFs = holder.root === "/" ? rel : `${holder.root}${rel}`;
  return mounts.filter((m) => m.majMin === majMin && m.root === inFs && m.path !== path).map((m) => m.path);
}
