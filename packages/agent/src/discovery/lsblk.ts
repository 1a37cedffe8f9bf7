import { parseToolJson } from "./tool-json.js";

/**
 * `lsblk` JSON → a flat list of block devices. lsblk prints a tree (a partition or a device-mapper
 * holder sits under its disk; an md array under each of its members); the tree is flattened here and
 * each device keeps the paths of its children, which is what the init safety rules ask about.
 */

/** The columns the parser understands; FSTYPE is deliberately absent (it comes from udev, empty in pods). */
export const LSBLK_ARGS = ["-J", "-b", "-o", "NAME,KNAME,PATH,SIZE,ROTA,RO,TYPE,MOUNTPOINTS,PKNAME,MAJ:MIN,STATE"];
/** util-linux before 2.37 has no MOUNTPOINTS (one mount point per device only): the fallback. */
export const LSBLK_ARGS_LEGACY = [
  "-J",
  "-b",
  "-o",
  "NAME,KNAME,PATH,SIZE,ROTA,RO,TYPE,MOUNTPOINT,PKNAME,MAJ:MIN,STATE",
];

/** lsblk's complaint about a column it does not know, which means "retry with the legacy columns". */
export function isUnknownColumnError(stderr: string): boolean {
  return /unknown column/i.test(stderr);
}

export interface BlockDevice {
  /** Device path, e.g. `/dev/vdb`, `/dev/nvme0n1p1`: the name NodeLocalStorage uses. */
  name: string;
  /** Kernel name, e.g. `vdb`: how wipefs and sysfs name it. */
  kname: string;
  /** `major:minor`, matches `/proc/self/mountinfo`. */
  majMin: string;
  size: number;
  rotational: boolean;
  readOnly: boolean;
  /** lsblk TYPE: `disk`, `part`, `loop`, `lvm`, `crypt`, `raid1`, `rom`, … */
  type: string;
  /** Where the device is mounted (as lsblk sees the mount namespace it runs in). */
  mountpoints: string[];
  /** Path of the parent device for a partition or a holder; absent for a top-level device. */
  parent?: string;
  /** Direct children: partitions (`type: part`) and holders (LVM LVs, dm-crypt, md arrays). */
  children: Array<{ name: string; type: string }>;
  /** SCSI device state (`running`, `offline`, …); empty when the driver has none (virtio, NVMe). */
  state: string;
}

export class LsblkParseError extends Error {
  override readonly name = "LsblkParseError";
}

interface RawNode {
  [key: string]: unknown;
  children?: unknown;
}

/** Parses `lsblk -J -b -o …` (util-linux ≥ 2.33; older string-typed values and MOUNTPOINT are accepted too). */
export function parseLsblk(json: string): BlockDevice[] {
  const doc = parseToolJson(json, "lsblk output", LsblkParseError);
  const roots = (doc as { blockdevices?: unknown })?.blockdevices;
  if (!Array.isArray(roots)) throw new LsblkParseError(`lsblk output has no "blockdevices" array`);

  const byName = new Map<string, BlockDevice>();
  const visit = (node: RawNode, parent: BlockDevice | undefined): void => {
    const dev = toDevice(node, parent);
    const seen = byName.get(dev.name);
    // An md array or a dm device with several parents is listed once per parent: keep one entry.
    const kept = seen ?? dev;
    if (!seen) byName.set(dev.name, dev);
    if (parent && !parent.children.some((c) => c.name === kept.name)) {
      parent.children.push({ name: kept.name, type: kept.type });
    }
    if (Array.isArray(node.children)) for (const child of node.children) visit(child as RawNode, kept);
  };
  for (const root of roots) visit(root as RawNode, undefined);
  return [...byName.values()];
}

function toDevice(node: RawNode, parent: BlockDevice | undefined): BlockDevice {
  const kname = text(node.kname) || text(node.name);
  if (!kname) throw new LsblkParseError(`lsblk device without a name: ${JSON.stringify(node).slice(0, 200)}`);
  const name = text(node.path) || `/dev/${kname}`;
  const size = Number(node.size ?? 0);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new LsblkParseError(`lsblk: ${name} has an invalid size ${JSON.stringify(node.size)}`);
  }
  const dev: BlockDevice = {
    name,
    kname,
    majMin: text(node["maj:min"]),
    size,
    rotational: flag(node.rota),
    readOnly: flag(node.ro),
    type: text(node.type),
    mountpoints: mountpointsOf(node),
    children: [],
    state: text(node.state),
  };
  if (parent) dev.parent = parent.name;
  return dev;
}

function text(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}

/** lsblk ≥ 2.33 prints booleans; older versions print "0"/"1". */
function flag(v: unknown): boolean {
  return v === true || v === 1 || v === "1";
}

function mountpointsOf(node: RawNode): string[] {
  const many = node.mountpoints;
  const list = Array.isArray(many) ? many : [node.mountpoint];
  return list.filter((m): m is string => typeof m === "string" && m.length > 0);
}
