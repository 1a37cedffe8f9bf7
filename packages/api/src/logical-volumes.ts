import { CSI_LV_PREFIX, DEFAULT_LV_PREFIX } from "./constants.js";
import type { LogicalVolume, VolumeGroup } from "./nodelocalstorage.js";

/**
 * What an LV in a NodeLocalStorage status means for capacity, read the same way by the agent that
 * writes it and the extender that reads it (also from open-local's agent, which writes fewer fields).
 */

/** `vgcreate`'s default extent size, and what nls-agent creates its VGs with. */
export const DEFAULT_EXTENT_BYTES = 4 * 2 ** 20;

/** The VG's extent size from its status (`extentSize`, an nls addition), else `vgcreate`'s default. */
export const extentBytesOf = (vg: Pick<VolumeGroup, "extentSize">): number =>
  typeof vg.extentSize === "number" && Number.isSafeInteger(vg.extentSize) && vg.extentSize > 0
    ? vg.extentSize
    : DEFAULT_EXTENT_BYTES;

/** The bytes LVM gives a volume of `bytes` in a VG of `extentBytes` extents: whole extents, rounded up. */
export const roundToExtents = (bytes: number, extentBytes: number): number =>
  Math.ceil(bytes / extentBytes) * extentBytes;

/** An LV of the storage system by name: it starts with the configured prefix or with `csi-`. */
export function isManagedLvName(name: string, lvPrefix: string): boolean {
  return (lvPrefix !== "" && name.startsWith(lvPrefix)) || name.startsWith(CSI_LV_PREFIX);
}

/**
 * Whether an LV's extents are inside its VG's `allocatable`: the agent says so (`managed`); a status
 * without that field (open-local's agent) is read by open-local's default rule.
 */
export const countsInAllocatable = (lv: Pick<LogicalVolume, "name" | "managed">): boolean =>
  typeof lv.managed === "boolean" ? lv.managed : isManagedLvName(lv.name, DEFAULT_LV_PREFIX);

const TRAILING_UID = /-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * The claim uid in a provisioned volume's name. external-provisioner names a PV
 * `<--volume-name-prefix>-<PVC uid>` and open-local's CSI driver names the LV after the PV, so an LV
 * made for a claim whose PV object does not exist yet still says which claim it is for.
 * `--volume-name-uuid-length` (truncated uids) defeats this; such names give undefined.
 */
export function claimUidOfVolumeName(name: string): string | undefined {
  return TRAILING_UID.exec(name)?.[1];
}
