import { countsInAllocatable, extentBytesOf, type NodeLocalStorage } from "@nls/api";

/**
 * What the extender needs of one node's NodeLocalStorage, computed once per NLS update so a request
 * reads plain numbers. Only *selected* VGs/devices (`filteredStorageInfo`) are usable. Fields that
 * open-local's Go agent may omit (omitempty) read as absent/zero, never as "unlimited".
 */
export interface VgView {
  name: string;
  /** Bytes the storage system may use (total − unmanaged LVs − storage-reserved). */
  allocatable: number;
  total: number;
  /** LVM allocates in whole extents of this size (the status's `extentSize`, else 4 MiB). */
  extentBytes: number;
}

/**
 * An LV whose extents the agent counted in its VG's `allocatable` (the storage system's own): unless a
 * PV or an in-flight claim accounts for it, the extender must subtract it itself.
 */
export interface NodeLv {
  name: string;
  vg: string;
  bytes: number;
}

/**
 * A unit a volume takes whole: a block device (Device volumes) or a mounted filesystem (MountPoint
 * volumes), named by its path.
 */
export interface DeviceView {
  name: string;
  kind: UnitKind;
  mediaType: string;
  total: number;
}

export type UnitKind = "device" | "mountpoint";

/** A device the agent reports in use (`deviceInfo[].inUse`): never offered, shown with why. */
export interface BusyDeviceView {
  name: string;
  mediaType: string;
  total: number;
  inUse: string[];
}

export interface NodeView {
  name: string;
  /** Selected, healthy VGs, sorted by name. */
  vgs: VgView[];
  /** Index of `vgs` by name. */
  vgIndex: Map<string, number>;
  /**
   * Selected devices and mount points that can take a volume, sorted by size then name (smallest fit
   * comes first). Their paths never collide (`/dev/…` against mount points), so one list serves both.
   */
  devices: DeviceView[];
  /**
   * Devices the agent found in use, selected or not, sorted by name. They are never offered, even when
   * a status lists them as selected; one that holds a Device PV is shown as bound by the ledger.
   */
  busyDevices: BusyDeviceView[];
  allocatable: number;
  /** Selected VGs that exist but cannot take volumes, with why (shown in failure reasons). */
  unusableVgs: Map<string, string>;
  /** The LVs of `vgs` that count in their VG's allocatable, sorted by VG then name. */
  lvs: NodeLv[];
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

export function nodeViewFromNls(name: string, nls: NodeLocalStorage): NodeView {
  const info = nls.status?.nodeStorageInfo;
  const filtered = nls.status?.filteredStorageInfo;
  const selectedVgs = new Set(Array.isArray(filtered?.volumeGroups) ? filtered.volumeGroups : []);
  const selectedDevices = new Set(Array.isArray(filtered?.devices) ? filtered.devices : []);
  const selectedMountPoints = new Set(Array.isArray(filtered?.mountPoints) ? filtered.mountPoints : []);

  const vgs: VgView[] = [];
  const lvs: NodeLv[] = [];
  const unusableVgs = new Map<string, string>();
  for (const vg of Array.isArray(info?.volumeGroups) ? info.volumeGroups : []) {
    const vgName = str(vg?.name);
    if (!vgName || !selectedVgs.has(vgName)) continue;
    if (vg.condition === "DiskFault") {
      unusableVgs.set(vgName, "DiskFault");
      continue;
    }
    vgs.push({ name: vgName, allocatable: num(vg.allocatable), total: num(vg.total), extentBytes: extentBytesOf(vg) });
    for (const lv of Array.isArray(vg.logicalVolumes) ? vg.logicalVolumes : []) {
      const lvName = str(lv?.name);
      if (lvName && countsInAllocatable(lv)) lvs.push({ name: lvName, vg: vgName, bytes: num(lv.total) });
    }
  }
  vgs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  lvs.sort((a, b) => (a.vg < b.vg ? -1 : a.vg > b.vg ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const devices: DeviceView[] = [];
  const busyDevices: BusyDeviceView[] = [];
  const mediaTypes = new Map<string, string>();
  for (const d of Array.isArray(info?.deviceInfo) ? info.deviceInfo : []) {
    const devName = str(d?.name);
    if (!devName) continue;
    mediaTypes.set(devName, str(d.mediaType));
    // Whatever the selection says, a device the agent saw in use holds someone's data.
    const inUse = Array.isArray(d.inUse) ? d.inUse.map(String) : [];
    if (inUse.length > 0) {
      busyDevices.push({ name: devName, mediaType: str(d.mediaType), total: num(d.total), inUse });
      continue;
    }
    if (!selectedDevices.has(devName)) continue;
    if (d.readOnly === true || d.condition === "DiskFault") continue;
    devices.push({ name: devName, kind: "device", mediaType: str(d.mediaType), total: num(d.total) });
  }
  // A mount point's media type is its device's, as open-local reads it.
  for (const mp of Array.isArray(info?.mountPoints) ? info.mountPoints : []) {
    const path = str(mp?.name);
    if (!path || !selectedMountPoints.has(path)) continue;
    if (mp.readOnly === true || mp.condition === "DiskFault") continue;
    devices.push({
      name: path,
      kind: "mountpoint",
      mediaType: mediaTypes.get(str(mp.device)) ?? "",
      total: num(mp.total),
    });
  }
  devices.sort((a, b) => a.total - b.total || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  busyDevices.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const vgIndex = new Map<string, number>();
  let allocatable = 0;
  vgs.forEach((vg, i) => {
    vgIndex.set(vg.name, i);
    allocatable += vg.allocatable;
  });
  return { name, vgs, vgIndex, devices, busyDevices, allocatable, unusableVgs, lvs };
}
