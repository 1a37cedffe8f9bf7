import type { NodeLocalStorage } from "@nls/api";

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
}

export interface DeviceView {
  name: string;
  mediaType: string;
  total: number;
}

export interface NodeView {
  name: string;
  /** Selected, healthy VGs, sorted by name. */
  vgs: VgView[];
  /** Index of `vgs` by name. */
  vgIndex: Map<string, number>;
  /** Selected devices that can take a volume, sorted by size then name (smallest fit comes first). */
  devices: DeviceView[];
  allocatable: number;
  /** Selected VGs that exist but cannot take volumes, with why (shown in failure reasons). */
  unusableVgs: Map<string, string>;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

export function nodeViewFromNls(name: string, nls: NodeLocalStorage): NodeView {
  const info = nls.status?.nodeStorageInfo;
  const filtered = nls.status?.filteredStorageInfo;
  const selectedVgs = new Set(Array.isArray(filtered?.volumeGroups) ? filtered.volumeGroups : []);
  const selectedDevices = new Set(Array.isArray(filtered?.devices) ? filtered.devices : []);

  const vgs: VgView[] = [];
  const unusableVgs = new Map<string, string>();
  for (const vg of Array.isArray(info?.volumeGroups) ? info.volumeGroups : []) {
    const vgName = str(vg?.name);
    if (!vgName || !selectedVgs.has(vgName)) continue;
    if (vg.condition === "DiskFault") {
      unusableVgs.set(vgName, "DiskFault");
      continue;
    }
    vgs.push({ name: vgName, allocatable: num(vg.allocatable), total: num(vg.total) });
  }
  vgs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const devices: DeviceView[] = [];
  for (const d of Array.isArray(info?.deviceInfo) ? info.deviceInfo : []) {
    const devName = str(d?.name);
    if (!devName || !selectedDevices.has(devName)) continue;
    if (d.readOnly === true || d.condition === "DiskFault") continue;
    devices.push({ name: devName, mediaType: str(d.mediaType), total: num(d.total) });
  }
  devices.sort((a, b) => a.total - b.total || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const vgIndex = new Map<string, number>();
  let allocatable = 0;
  vgs.forEach((vg, i) => {
    vgIndex.set(vg.name, i);
    allocatable += vg.allocatable;
  });
  return { name, vgs, vgIndex, devices, allocatable, unusableVgs };
}
