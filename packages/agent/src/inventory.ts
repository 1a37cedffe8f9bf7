import {
  isManagedLvName,
  tryParseBytes,
  type DeviceInfo,
  type DiskCondition,
  type LogicalVolume,
  type MountPointInfo,
  type VolumeGroup,
} from "@nls/api";
import { deviceUse } from "./device-use.js";
import type { HostFacts, MountPointFacts } from "./discovery/host.js";
import type { BlockDevice } from "./discovery/lsblk.js";
import {
  isForeignVg,
  type LogicalVolumeFacts,
  type PhysicalVolumeFacts,
  type VolumeGroupFacts,
} from "./discovery/lvm-report.js";

/**
 * Host facts → the `nodeStorageInfo` lists (docs/nodelocalstorage.md): device media and conditions, VG capacity with the
 * managed-LV rule and `storage-reserved`, mount points. Pure; every list is sorted by name so an
 * unchanged host produces an identical status (open-local's random order causes spurious writes).
 */

export interface Inventory {
  deviceInfo: DeviceInfo[];
  volumeGroups: VolumeGroup[];
  mountPoints: MountPointInfo[];
  /** Problems with the inputs (e.g. a bad `storage-reserved` entry), worded for status and Events. */
  problems: string[];
}

export interface InventoryOptions {
  /** LVs whose names start with this (or with `csi-`) are the storage system's own. */
  lvPrefix: string;
  /** The raw `csi.aliyun.com/storage-reserved` annotation, if any. */
  storageReserved?: string;
}

/** A reservation from `storage-reserved`: an absolute byte count or a percentage of the VG size. */
export type Reservation = { bytes: number } | { percent: number };

/**
 * Parses `{"<vg>": "<quantity>" | "<n>%"}`. A bad entry is reported and ignored; the others still apply.
 */
export function parseStorageReserved(annotation: string | undefined): {
  reservations: Map<string, Reservation>;
  errors: string[];
} {
  const reservations = new Map<string, Reservation>();
  const errors: string[] = [];
  if (annotation === undefined || annotation.trim() === "") return { reservations, errors };
  const where = "annotation csi.aliyun.com/storage-reserved";
  let doc: unknown;
  try {
    doc = JSON.parse(annotation);
  } catch (e) {
    return { reservations, errors: [`${where} is not JSON: ${(e as Error).message}`] };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return { reservations, errors: [`${where} must be a JSON object {"<vg>": "<quantity>" or "<n>%"}`] };
  }
  for (const [vg, value] of Object.entries(doc)) {
    const pct = typeof value === "string" ? /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value) : null;
    if (pct) {
      const percent = Number(pct[1]);
      if (percent > 100) errors.push(`${where}: ${vg}: ${value} is more than 100%`);
      else reservations.set(vg, { percent });
      continue;
    }
    const ram = typeof value === "string" ? ramSize(value) : undefined;
    const parsed = ram !== undefined ? { ok: true as const, bytes: ram } : tryParseBytes(value);
    if (parsed.ok) reservations.set(vg, { bytes: parsed.bytes });
    else errors.push(`${where}: ${vg}: ${parsed.error}`);
  }
  return { reservations, errors };
}

/**
 * open-local reads this annotation with go-units' `RAMInBytes`, where every suffix is binary: `10G`,
 * `10GB`, `10Gi`, `10GiB` and `10g` all mean 10 GiB. The same text must reserve the same bytes here,
 * so those forms are read that way (for `G`, more than a Kubernetes quantity would: never less).
 * Other quantities (`1e9`, `100Mi`, plain byte counts) fall through to Kubernetes rules.
 */
function ramSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?) ?([kmgtp])(i?b?)\s*$/i.exec(text);
  if (!m) return undefined;
  const power = "kmgtp".indexOf(m[2]!.toLowerCase()) + 1;
  const bytes = Math.ceil(Number(m[1]) * 1024 ** power);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

export const isManagedLv = isManagedLvName;

/**
 * Whether an LV's extents are inside `allocatable` (`vgAllocatable` adds them back): the storage
 * system's own by name, and not a thin volume (whose size is virtual). The extender subtracts such an
 * LV itself when no PV accounts for it, so the status says which ones they are (`managed`).
 */
export const countsInAllocatable = (lv: Pick<LogicalVolumeFacts, "name" | "attr">, lvPrefix: string): boolean =>
  isManagedLv(lv.name, lvPrefix) && lv.attr[0] !== "V";

/** Bytes a reservation withholds from a VG of `total` bytes; a percentage rounds up (never under-reserve). */
export function reservedBytes(total: number, r: Reservation | undefined): number {
  if (!r) return 0;
  if ("bytes" in r) return r.bytes;
  return Math.ceil((total * r.percent) / 100);
}

/**
 * Allocatable = VG size − LVs not managed by the storage system, capped at size − reserved, never < 0.
 * Computed as free bytes + bytes held by managed LVs: the same number when every LV is a visible
 * linear LV, and still right when sizes are virtual (thin volumes, `lv_attr` `V`, hold no VG extents)
 * or extents are held by LVs a report does not list (pool metadata, `lvol0_pmspare`).
 * Managed LVs stay counted: the extender subtracts them itself from its own bookkeeping of volumes.
 */
export function vgAllocatable(
  vg: Pick<VolumeGroupFacts, "size" | "free">,
  lvs: Array<Pick<LogicalVolumeFacts, "name" | "size" | "attr">>,
  lvPrefix: string,
  reservation?: Reservation,
): number {
  const managed = lvs.filter((lv) => countsInAllocatable(lv, lvPrefix)).reduce((sum, lv) => sum + lv.size, 0);
  const cap = vg.size - reservedBytes(vg.size, reservation);
  return Math.max(0, Math.min(vg.free + managed, vg.size, cap));
}

export function vgCondition(vg: VolumeGroupFacts): DiskCondition {
  if (vg.partial) return "DiskFault";
  if (vg.freeCount === 0 || vg.free === 0) return "DiskFull";
  return "DiskReady";
}

/** SCSI `running` and NVMe `live` are healthy; drivers without a state (virtio, loop) report none. */
const HEALTHY_STATES = new Set(["", "running", "live"]);

export function deviceCondition(d: BlockDevice, pv: PhysicalVolumeFacts | undefined): DiskCondition {
  if (d.readOnly || !HEALTHY_STATES.has(d.state) || pv?.missing) return "DiskFault";
  if (pv && pv.vgName !== "" && pv.free === 0) return "DiskFull";
  return "DiskReady";
}

export function mountPointCondition(m: MountPointFacts): DiskCondition {
  if (m.statError !== undefined || m.readOnly) return "DiskFault";
  if (m.available === 0) return "DiskFull";
  return "DiskReady";
}

export function buildInventory(facts: HostFacts, opts: InventoryOptions): Inventory {
  const { reservations, errors: problems } = parseStorageReserved(opts.storageReserved);
  const devicesByName = new Map(facts.devices.map((d) => [d.name, d]));
  const pvByName = new Map(facts.lvm.pvs.map((pv) => [pv.name, pv]));

  const deviceInfo: DeviceInfo[] = facts.candidates.flatMap((name) => {
    const d = devicesByName.get(name);
    if (!d) return [];
    // The rule that keeps init off a device keeps Device volumes off it too.
    const inUse = deviceUse(d, facts);
    return [
      {
        name: d.name,
        mediaType: d.rotational ? "hdd" : "ssd",
        total: d.size,
        readOnly: d.readOnly,
        condition: deviceCondition(d, pvByName.get(d.name)),
        ...(inUse.length > 0 ? { inUse } : {}),
      },
    ];
  });

  // Another host's VG (lvmsystemid(7)) is not this node's storage: LVM will not let this host use it.
  for (const vg of facts.lvm.vgs.filter((v) => isForeignVg(v, facts.lvmSystemId))) {
    problems.push(
      `VG ${vg.name} belongs to system ID ${vg.systemId}, not this host's (${facts.lvmSystemId || "none"}): not reported, never changed`,
    );
  }
  const volumeGroups: VolumeGroup[] = facts.lvm.vgs
    .filter((v) => !isForeignVg(v, facts.lvmSystemId))
    .map((vg) => {
      const lvs = facts.lvm.lvs.filter((lv) => lv.vgName === vg.name);
      const vgFault = vg.partial;
      const logicalVolumes: LogicalVolume[] = lvs.map((lv) => ({
        name: lv.name,
        vgname: lv.vgName,
        total: lv.size,
        readOnly: lv.readOnly,
        condition: lv.faulty || vgFault ? "DiskFault" : "DiskReady",
        managed: countsInAllocatable(lv, opts.lvPrefix),
      }));
      return {
        name: vg.name,
        physicalVolumes: facts.lvm.pvs
          .filter((pv) => pv.vgName === vg.name)
          .map((pv) => pv.name)
          .sort(),
        logicalVolumes,
        total: vg.size,
        available: vg.free,
        allocatable: vgAllocatable(vg, lvs, opts.lvPrefix, reservations.get(vg.name)),
        condition: vgCondition(vg),
        ...(vg.extentSize > 0 ? { extentSize: vg.extentSize } : {}),
      };
    });
  for (const vg of reservations.keys()) {
    if (facts.complete.lvm && !facts.lvm.vgs.some((v) => v.name === vg)) {
      problems.push(`annotation csi.aliyun.com/storage-reserved names VG ${vg}, which does not exist on this node`);
    }
  }

  const mountPoints: MountPointInfo[] = facts.mountPoints.map((m) => ({
    name: m.path,
    total: m.total,
    available: m.available,
    fsType: m.fsType,
    isBind: m.root !== "/",
    options: m.options,
    device: m.source,
    readOnly: m.readOnly,
    condition: mountPointCondition(m),
  }));

  return { deviceInfo, volumeGroups, mountPoints, problems };
}
