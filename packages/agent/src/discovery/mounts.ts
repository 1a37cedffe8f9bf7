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
