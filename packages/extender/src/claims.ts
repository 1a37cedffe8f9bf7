import type { V1PersistentVolume } from "@kubernetes/client-node";
import { ANNOTATION_PV_ALLOCATED, formatBytesHuman as human, tryParseBytes } from "@nls/api";
import type { Allocation, Holder, NodeUsage } from "./ledger.js";
import { lvOfLedgerKey } from "./lv-accounting.js";
import type { NodeView } from "./node-view.js";
import { nodeState, Placer } from "./placement.js";
import type { Strategy } from "./scoring.js";
import { isLocalPv, lvmBytes, pvNode, type VolumeRequest } from "./request.js";

/**
 * What API objects commit, and the allocation decision of the reserve route. Pure: objects and
 * node views in, allocations out.
 */

/**
 * The allocation a provisioned local PV holds: node from its affinity; VG or device from the
 * `csi.aliyun.com/pv-allocated` annotation, else from the volume attributes open-local's CSI driver
 * writes (`vgName`; `Device` and `MountPoint` hold the path of a Device or MountPoint volume). A Device
 * or MountPoint PV that names no device or path holds no VG bytes, so it is not counted against a VG.
 */
export function pvAllocation(pv: V1PersistentVolume): Allocation | undefined {
  if (!isLocalPv(pv)) return undefined;
  const node = pvNode(pv);
  const size = tryParseBytes(pv.spec?.capacity?.storage);
  if (!node || !size.ok) return undefined;
  let vg: string | undefined;
  let device: string | undefined;
  let volumeType: string | undefined;
  const raw = pv.metadata?.annotations?.[ANNOTATION_PV_ALLOCATED];
  if (raw) {
    try {
      const a = JSON.parse(raw) as Record<string, unknown>;
      if (typeof a.vgName === "string" && a.vgName) vg = a.vgName;
      if (typeof a.deviceName === "string" && a.deviceName) device = a.deviceName;
      if (typeof a.volumeType === "string" && a.volumeType) volumeType = a.volumeType;
    } catch {
      // A broken annotation falls back to the CSI volume attributes below.
    }
  }
  const attrs = pv.spec?.csi?.volumeAttributes ?? {};
  vg ??= attrs.vgName || undefined;
  device ??= attrs.Device || undefined;
  volumeType ??= attrs.volumeType || undefined;
  if (volumeType === "Device" || (volumeType === undefined && device)) {
    return device ? { node, device, bytes: size.bytes } : undefined;
  }
  if (volumeType === "MountPoint") {
    return attrs.MountPoint ? { node, mountPoint: attrs.MountPoint, bytes: size.bytes } : undefined;
  }
  return { node, vg, bytes: lvmBytes(size.bytes) };
}

/**
 * The PVC annotation the reserve route writes (ANNOTATION_NLS_ALLOCATION): the durable decision a
 * restarted extender rebuilds its ledger from.
 *   {"node":"n1","volumeType":"LVM","vgName":"pool-0","bytes":10737418240}
 *   {"node":"n1","volumeType":"Device","device":"/dev/vdc","bytes":107374182400}
 *   {"node":"n1","volumeType":"MountPoint","mountPoint":"/mnt/open-local/disk-1","bytes":107374182400}
 */
export interface AllocationRecord {
  node: string;
  volumeType: "LVM" | "Device" | "MountPoint";
  vgName?: string;
  device?: string;
  mountPoint?: string;
  bytes: number;
}

export function allocationRecord(a: Allocation): AllocationRecord {
  if (a.device) return { node: a.node, volumeType: "Device", device: a.device, bytes: a.bytes };
  if (a.mountPoint) return { node: a.node, volumeType: "MountPoint", mountPoint: a.mountPoint, bytes: a.bytes };
  return { node: a.node, volumeType: "LVM", vgName: a.vg, bytes: a.bytes };
}

/** The volume type an allocation is for. */
export const allocationType = (a: Allocation): AllocationRecord["volumeType"] => allocationRecord(a).volumeType;

export function parseAllocationRecord(raw: string | undefined): Allocation | undefined {
  if (!raw) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.node !== "string" || !r.node) return undefined;
  if (typeof r.bytes !== "number" || !Number.isSafeInteger(r.bytes) || r.bytes <= 0) return undefined;
  if (r.volumeType === "Device" && typeof r.device === "string" && r.device) {
    return { node: r.node, device: r.device, bytes: r.bytes };
  }
  if (r.volumeType === "MountPoint" && typeof r.mountPoint === "string" && r.mountPoint) {
    return { node: r.node, mountPoint: r.mountPoint, bytes: r.bytes };
  }
  if (r.volumeType === "LVM" && typeof r.vgName === "string" && r.vgName) {
    return { node: r.node, vg: r.vgName, bytes: lvmBytes(r.bytes) };
  }
  return undefined;
}

/**
 * Where a volume goes on a given node: the `preferred` spot (where the claim was held or decided
 * before on this node) when it still fits, else the strategy's choice. `usage` must not contain the
 * claim itself.
 */
export function chooseOnNode(
  request: VolumeRequest,
  view: NodeView,
  usage: NodeUsage | undefined,
  strategy: Strategy,
  preferred?: Allocation,
): { ok: true; allocation: Allocation } | { ok: false; reason: string } {
  const state = nodeState(view, usage);
  if (preferred && preferred.node === view.name) {
    const preferredUnit = preferred.device ?? preferred.mountPoint;
    const pinned: VolumeRequest =
      preferredUnit && request.kind !== "lvm"
        ? request
        : request.kind === "lvm" && preferred.vg && (request.vgName === undefined || request.vgName === preferred.vg)
          ? { ...request, vgName: preferred.vg }
          : request;
    const p = new Placer([pinned], strategy);
    if (p.place(state)) {
      const [a] = p.placements();
      if (!preferredUnit || (a!.device ?? a!.mountPoint) === preferredUnit) return { ok: true, allocation: a! };
    }
  }
  const p = new Placer([request], strategy);
  if (p.place(state)) return { ok: true, allocation: p.placements()[0]! };
  return { ok: false, reason: p.explain() };
}

const HOLDERS_LISTED = 6;

/**
 * Who holds the space a refused request needed, for the reserve route's refusal: the holders of the
 * VG the request named (all VGs when it named none), or of the node's devices or mount points, largest
 * first.
 *   held by pv local-1 40Gi (pool-0), allocated default/data-2 30Gi (pool-0), and 3 more (25Gi)
 */
export function describeHolders(holders: readonly Holder[], request: VolumeRequest): string {
  const relevant = holders.filter((h) => {
    const a = h.allocation;
    if (request.kind !== "lvm") return (request.kind === "device" ? a.device : a.mountPoint) !== undefined;
    return a.device === undefined && a.mountPoint === undefined && (!request.vgName || a.vg === request.vgName);
  });
  if (relevant.length === 0) return "nothing holds it (the VG is smaller than the request)";
  const name = (h: Holder) => {
    if (h.key.startsWith("pv:")) return `pv ${h.key.slice(3)}`;
    const lv = lvOfLedgerKey(h.key);
    if (lv) return `${h.allocation.excess ? "the excess of lv" : "lv without a pv"} ${lv.lv}`;
    return `${h.kind === "allocation" ? "allocated" : "selected"} ${h.key}`;
  };
  const where = (a: Allocation) => a.device ?? a.mountPoint ?? a.vg ?? "no VG yet";
  const listed = relevant
    .slice(0, HOLDERS_LISTED)
    .map((h) => `${name(h)} ${human(h.allocation.bytes)} (${where(h.allocation)})`);
  const rest = relevant.slice(HOLDERS_LISTED);
  if (rest.length > 0) {
    listed.push(`and ${rest.length} more (${human(rest.reduce((s, h) => s + h.allocation.bytes, 0))})`);
  }
  return `held by ${listed.join(", ")}`;
}

export const describeAllocation = (a: Allocation): string =>
  `${human(a.bytes)} on ${a.node}${a.vg ? ` vg ${a.vg}` : ""}${a.device ? ` device ${a.device}` : ""}${a.mountPoint ? ` mount point ${a.mountPoint}` : ""}`;
