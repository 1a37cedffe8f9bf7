import { formatBytesHuman as human } from "@nls/api";
import type { Allocation, NodeUsage } from "./ledger.js";
import type { NodeView, UnitKind } from "./node-view.js";
import type { VolumeRequest } from "./request.js";
import { preference, type Strategy } from "./scoring.js";

/**
 * A node's free space as the placer reads it: bins are its selected VGs (free bytes) then its selected
 * devices and mount points (size, or -1 when taken). Kept up to date by the cache whenever the node's NLS or its ledger
 * usage changes, so a request only copies a few numbers per node.
 */
export interface NodeState {
  view: NodeView;
  free: Float64Array;
  /** Σ and max of the VGs' free bytes: reject most nodes before looking further. */
  totalFree: number;
  maxFree: number;
  /**
   * The last pod shape assessed against this exact state. A state object is never changed, only
   * replaced (NLS or ledger change), so the memo cannot outlive what it was computed from; pods of one
   * shape (StatefulSet replicas, Job bursts) then cost one comparison per unchanged node.
   */
  memo?: Assessment;
}

/** Whether a pod's volumes fit on a node, how much the strategy likes it there, or why not. */
export interface Assessment {
  shape: string;
  fits: boolean;
  /** `preference()` of the node with the pod placed (0 when it does not fit). */
  preference: number;
  reason: string;
}

/**
 * One string per pod shape. Every node's memo holds its assessment's shape for as long as the node's
 * state stands, so a string made per request would outlive the young generation and be collected only
 * by a full collection; the first pod of a shape's string serves every later one. Bounded: a cluster
 * has few shapes, and a burst of unusual ones only starts the table over.
 */
const shapes = new Map<string, string>();
const MAX_SHAPES = 1024;
function sharedShape(shape: string): string {
  const known = shapes.get(shape);
  if (known !== undefined) return known;
  if (shapes.size >= MAX_SHAPES) shapes.clear();
  shapes.set(shape, shape);
  return shape;
}

/** Index of a VG in the view, or -1: a scan beats hashing the name for the few VGs a node has. */
function vgIndexOf(view: NodeView, name: string): number {
  const vgs = view.vgs;
  if (vgs.length > 8) return view.vgIndex.get(name) ?? -1;
  for (let i = 0; i < vgs.length; i++) if (vgs[i]!.name === name) return i;
  return -1;
}

export function nodeState(view: NodeView, usage: NodeUsage | undefined): NodeState {
  const nVg = view.vgs.length;
  const free = new Float64Array(nVg + view.devices.length);
  for (let i = 0; i < nVg; i++) {
    const vg = view.vgs[i]!;
    free[i] = vg.allocatable - (usage?.vg.get(vg.name) ?? 0);
  }
  for (let j = 0; j < view.devices.length; j++) {
    free[nVg + j] = usage?.devices.has(view.devices[j]!.name) ? -1 : view.devices[j]!.total;
  }
  // Bytes committed on the node whose VG is not decided yet are held against its emptiest VG.
  const unplaced = usage?.unplaced ?? 0;
  if (unplaced > 0 && nVg > 0) {
    let best = 0;
    for (let i = 1; i < nVg; i++) if (free[i]! > free[best]!) best = i;
    free[best] = free[best]! - unplaced;
  }
  let totalFree = 0;
  let maxFree = 0;
  for (let i = 0; i < nVg; i++) {
    const f = free[i]!;
    if (f > 0) totalFree += f;
    if (f > maxFree) maxFree = f;
  }
  return { view, free, totalFree, maxFree };
}

/** Exact search up to this many volumes; beyond, the same search with a step budget (a heuristic). */
export const EXACT_LIMIT = 8;
const EXACT_BUDGET = 100_000;
const HEURISTIC_BUDGET = 2_000;

/**
 * Fits a pod's volumes into one node at a time. Bins are the node's selected VGs (shared, by free bytes)
 * and devices and mount points (exclusive, by size; a volume only goes into a unit of its own kind). The search is depth-first over the volumes, largest first; at each
 * volume it tries the bins in the strategy's order (binpack: tightest VG first; spread: emptiest first;
 * devices: always the smallest that fits), so its first leaf *is* the greedy answer, and backtracking
 * finds a placement whenever one exists (open-local's single greedy pass can miss one).
 *
 * One Placer serves one HTTP request and reuses its scratch arrays across nodes: the hot loop over
 * 5,000 nodes allocates nothing unless a node fails and needs a reason.
 */
export class Placer {
  private free = new Float64Array(16);
  private order = new Int32Array(16 * 16);
  private readonly assign: Int32Array;
  private nVg = 0;
  private nBins = 0;
  private view: NodeView | undefined;
  private state: NodeState | undefined;
  /** False after a cheap rejection: scratch arrays do not hold this node yet. */
  private loaded = false;
  /** Set by `measure()`. */
  usedAfter = 0;
  capacityAfter = 0;
  private steps = 0;
  private budget = 0;
  /**
   * Σ bytes the pod's LVM volumes ask for (before each VG's extent rounding, so a lower bound of what
   * they take: the cheap rejection stays exact), and whether any volume is a device or a mount point.
   */
  readonly lvmBytes: number;
  readonly hasDevices: boolean;
  readonly hasMountPoints: boolean;
  /** The largest volume that may go into any VG (requests are sorted largest first). */
  private readonly largestLoose: number;
  /** VG names some request asks for by name: such a VG is not interchangeable with another. */
  private readonly namedVgs: ReadonlySet<string>;

  constructor(
    readonly requests: readonly VolumeRequest[],
    readonly strategy: Strategy,
    /** Allocations of the pod's own tentative reservations, credited back on their node. */
    private readonly credit: ReadonlyMap<string, readonly Allocation[]> = new Map(),
  ) {
    this.assign = new Int32Array(Math.max(1, requests.length));
    let lvm = 0;
    for (const r of requests) if (r.kind === "lvm") lvm += r.bytes;
    this.lvmBytes = lvm;
    this.hasDevices = requests.some((r) => r.kind === "device");
    this.hasMountPoints = requests.some((r) => r.kind === "mountpoint");
    this.largestLoose = requests.find((r) => r.kind === "lvm" && r.vgName === undefined)?.bytes ?? 0;
    this.namedVgs = new Set(requests.flatMap((r) => (r.kind === "lvm" && r.vgName !== undefined ? [r.vgName] : [])));
    this.budget = requests.length <= EXACT_LIMIT ? EXACT_BUDGET : HEURISTIC_BUDGET;
    // Everything the outcome on a given state depends on, but the claim names (reasons never name them).
    this.shape = sharedShape(
      `${strategy}|${requests
        .map((r) => `${r.kind}:${r.bytes}:${r.kind === "lvm" ? (r.vgName ?? "") : (r.mediaType ?? "")}`)
        .join(",")}`,
    );
  }

  /** The pod's request shape: pods with equal shapes get equal assessments on equal states. */
  readonly shape: string;

  /**
   * `place` + preference or reason, memoised on the state. Nodes where the pod holds its own tentative
   * reservation are never memoised: the credit makes the answer particular to this pod.
   */
  assess(state: NodeState): Assessment {
    const credited = this.credit.size > 0 && this.credit.has(state.view.name);
    const memo = state.memo;
    if (!credited && memo !== undefined && memo.shape === this.shape) return memo;
    let out: Assessment;
    if (this.place(state)) {
      this.measure();
      out = {
        shape: this.shape,
        fits: true,
        preference: preference(this.strategy, this.usedAfter, this.capacityAfter),
        reason: "",
      };
    } else out = { shape: this.shape, fits: false, preference: 0, reason: this.explain() };
    if (!credited) state.memo = out;
    return out;
  }

  /** Tries to place every volume on the node; true when all fit at the same time. */
  place(state: NodeState): boolean {
    const credit = this.credit.size > 0 ? this.credit.get(state.view.name) : undefined;
    // Cheap rejections first (exact unless the pod has its own reservation to credit back here).
    if (!credit && (this.lvmBytes > state.totalFree || this.largestLoose > state.maxFree)) {
      this.state = state;
      this.loaded = false;
      return false;
    }
    this.load(state, credit);
    if (this.requests.length === 0) return true;
    if (this.greedy()) return true;
    this.steps = 0;
    return this.search(0);
  }

  /**
   * The search's first leaf without recursion: each volume, largest first, into the strategy's best
   * bin. Most nodes are decided here; the backtracking search runs only when this fails.
   */
  private greedy(): boolean {
    const n = this.requests.length;
    const free = this.free;
    let d = 0;
    for (; d < n; d++) {
      const r = this.requests[d]!;
      const bin = this.bestBin(r);
      if (bin < 0) break;
      this.assign[d] = bin;
      free[bin] = bin < this.nVg ? free[bin]! - this.need(r, bin) : -1;
    }
    const ok = d === n;
    for (let k = d - 1; k >= 0; k--) {
      const bin = this.assign[k]!;
      free[bin] =
        bin < this.nVg ? free[bin]! + this.need(this.requests[k]!, bin) : this.view!.devices[bin - this.nVg]!.total;
    }
    return ok;
  }

  /** The bin `candidates` would try first, or -1. */
  private bestBin(r: VolumeRequest): number {
    const free = this.free;
    if (r.kind === "lvm") {
      if (r.vgName !== undefined) {
        const i = vgIndexOf(this.view!, r.vgName);
        return i >= 0 && free[i]! >= this.need(r, i) ? i : -1;
      }
      const spread = this.strategy === "spread";
      let best = -1;
      for (let i = 0; i < this.nVg; i++) {
        const f = free[i]!;
        if (f < this.need(r, i)) continue;
        if (best < 0 || (spread ? f > free[best]! : f < free[best]!)) best = i;
      }
      return best;
    }
    const devices = this.view!.devices;
    for (let j = 0; j < devices.length; j++) {
      if (free[this.nVg + j]! < r.bytes || devices[j]!.kind !== r.kind) continue;
      if (r.mediaType !== undefined && devices[j]!.mediaType !== r.mediaType) continue;
      return this.nVg + j;
    }
    return -1;
  }

  /**
   * The bytes an LVM request takes in VG bin `i`: whole extents of that VG's size, as `lvcreate -L`
   * allocates them (a 1000M volume takes 239 extents of 4 MiB, 32 of 32 MiB).
   */
  private need(r: VolumeRequest, i: number): number {
    const extent = this.view!.vgs[i]!.extentBytes;
    return Math.ceil(r.bytes / extent) * extent;
  }

  /** After a successful `place`: where each volume went (same order as `requests`). */
  placements(): Allocation[] {
    const view = this.view!;
    return this.requests.map((r, i) => {
      const bin = this.assign[i]!;
      if (bin < this.nVg) return { node: view.name, vg: view.vgs[bin]!.name, bytes: this.need(r, bin) };
      const unit = view.devices[bin - this.nVg]!;
      return unit.kind === "device"
        ? { node: view.name, device: unit.name, bytes: r.bytes }
        : { node: view.name, mountPoint: unit.name, bytes: r.bytes };
    });
  }

  /**
   * After a successful `place`: used and capacity bytes of the kinds the pod asks for, *after* placing
   * it (scratch `free` is restored by the search, so this recomputes from the assignment).
   */
  utilisationAfter(): { used: number; capacity: number } {
    this.measure();
    return { used: this.usedAfter, capacity: this.capacityAfter };
  }

  /** `utilisationAfter` into the fields `usedAfter`/`capacityAfter`: the hot loop allocates nothing. */
  measure(): void {
    const view = this.view!;
    let used = 0;
    let capacity = 0;
    if (this.lvmBytes > 0) {
      for (let i = 0; i < this.nVg; i++) {
        const a = view.vgs[i]!.allocatable;
        capacity += a;
        used += Math.min(a, Math.max(0, a - this.free[i]!));
      }
      for (let k = 0; k < this.requests.length; k++) {
        const bin = this.assign[k]!;
        if (bin < this.nVg && this.requests[k]!.kind === "lvm") used += this.need(this.requests[k]!, bin);
      }
    }
    if (this.hasDevices || this.hasMountPoints) {
      for (let j = 0; j < view.devices.length; j++) {
        const d = view.devices[j]!;
        if (!(d.kind === "device" ? this.hasDevices : this.hasMountPoints)) continue;
        capacity += d.total;
        if (this.free[this.nVg + j]! < 0) used += d.total;
      }
      for (let i = 0; i < this.requests.length; i++) {
        const bin = this.assign[i]!;
        if (bin >= this.nVg) used += view.devices[bin - this.nVg]!.total;
      }
    }
    this.usedAfter = Math.min(used, capacity);
    this.capacityAfter = capacity;
  }

  /** After a failed `place`: why, in terms an operator can act on. */
  explain(): string {
    if (!this.loaded) this.load(this.state!, undefined);
    const view = this.view!;
    const vgLine = (i: number, need: number) =>
      `vg ${view.vgs[i]!.name}: need ${human(need)}, free ${human(Math.max(0, this.free[i]!))} of ${human(view.vgs[i]!.allocatable)}`;
    const named = new Map<string, number>();
    const loose: number[] = [];
    const units: Array<{ kind: UnitKind; bytes: number; mediaType?: string }> = [];
    for (const r of this.requests) {
      if (r.kind !== "lvm") units.push(r);
      else if (r.vgName !== undefined) {
        const i = view.vgIndex.get(r.vgName);
        named.set(r.vgName, (named.get(r.vgName) ?? 0) + (i === undefined ? r.bytes : this.need(r, i)));
      } else loose.push(r.bytes);
    }
    const reasons: string[] = [];
    for (const [vg, need] of named) {
      const i = view.vgIndex.get(vg);
      if (i === undefined) {
        const why = view.unusableVgs.get(vg);
        reasons.push(
          why
            ? `vg ${vg} is ${why}`
            : `vg ${vg} is not selected on this node (selected: ${view.vgs.map((v) => v.name).join(", ") || "none"})`,
        );
      } else if (need > this.free[i]!) reasons.push(vgLine(i, need));
    }
    if (loose.length > 0) {
      if (this.nVg === 0) reasons.push("no volume group is selected on this node");
      else {
        const biggest: VolumeRequest = { kind: "lvm", claim: "", bytes: loose[0]! };
        let fitsSomewhere = false;
        for (let i = 0; i < this.nVg; i++) if (this.free[i]! >= this.need(biggest, i)) fitsSomewhere = true;
        if (!fitsSomewhere) {
          for (let i = 0; i < this.nVg; i++) reasons.push(vgLine(i, this.need(biggest, i)));
        } else if (reasons.length === 0) {
          const sum = loose.reduce((a, b) => a + b, 0);
          const vgs = view.vgs.map(
            (vg, i) => `${vg.name} free ${human(Math.max(0, this.free[i]!))} of ${human(vg.allocatable)}`,
          );
          reasons.push(
            `cannot place ${loose.length} volumes (${loose.map(human).join(", ")}; ${human(sum)} in total) into vgs ${vgs.join(", ")}`,
          );
        }
      }
    }
    for (const [kind, noun] of [
      ["device", "devices"],
      ["mountpoint", "mount points"],
    ] as const) {
      const asked = units.filter((u) => u.kind === kind);
      if (asked.length === 0 || reasons.length > 0) continue;
      const need = asked.map((d) => `${d.mediaType ?? "any"} ≥ ${human(d.bytes)}`).join(", ");
      const free = view.devices
        .filter((d, j) => d.kind === kind && this.free[this.nVg + j]! >= 0)
        .map((d) => `${d.name} ${d.mediaType || "?"} ${human(d.total)}`);
      reasons.push(`no free ${noun} for ${need} (free ${noun}: ${free.join(", ") || "none"})`);
    }
    return reasons.join("; ") || "volumes do not fit";
  }

  private load(state: NodeState, credit: readonly Allocation[] | undefined): void {
    const view = state.view;
    this.state = state;
    this.loaded = true;
    this.view = view;
    this.nVg = view.vgs.length;
    this.nBins = state.free.length;
    if (this.free.length < this.nBins) this.free = new Float64Array(this.nBins * 2);
    if (this.order.length < this.nBins * this.requests.length)
      this.order = new Int32Array(this.nBins * this.requests.length * 2);
    for (let i = 0; i < this.nBins; i++) this.free[i] = state.free[i]!;
    if (credit) {
      for (const a of credit) {
        if (a.vg !== undefined) {
          const i = view.vgIndex.get(a.vg);
          if (i !== undefined) this.free[i] = this.free[i]! + a.bytes;
        } else if ((a.device ?? a.mountPoint) !== undefined) {
          const unit = a.device ?? a.mountPoint;
          const j = view.devices.findIndex((d) => d.name === unit);
          if (j >= 0) this.free[this.nVg + j] = view.devices[j]!.total;
        }
      }
    }
  }

  private search(depth: number): boolean {
    if (depth === this.requests.length) return true;
    if (++this.steps > this.budget) return false;
    const r = this.requests[depth]!;
    const base = depth * this.nBins;
    const n = this.candidates(r, base);
    let lastFree = Number.NaN;
    let lastExtent = 0;
    const vgs = this.view!.vgs;
    for (let k = 0; k < n; k++) {
      const bin = this.order[base + k]!;
      const f = this.free[bin]!;
      // Two VGs with equal free bytes and extents lead to the same subtree — unless a request names
      // one of them: try one of each such pair.
      const interchangeable = bin < this.nVg && !this.namedVgs.has(vgs[bin]!.name);
      if (interchangeable && f === lastFree && vgs[bin]!.extentBytes === lastExtent) continue;
      if (interchangeable) {
        lastFree = f;
        lastExtent = vgs[bin]!.extentBytes;
      }
      this.assign[depth] = bin;
      if (bin < this.nVg) {
        this.free[bin] = f - this.need(r, bin);
        if (this.search(depth + 1)) {
          this.free[bin] = f;
          return true;
        }
      } else {
        this.free[bin] = -1;
        if (this.search(depth + 1)) {
          this.free[bin] = f;
          return true;
        }
      }
      this.free[bin] = f;
      if (this.steps > this.budget) return false;
    }
    return false;
  }

  /** Writes the bins that can take `r` into `order[base..]`, best first; returns how many. */
  private candidates(r: VolumeRequest, base: number): number {
    const view = this.view!;
    let n = 0;
    if (r.kind === "lvm") {
      if (r.vgName !== undefined) {
        const i = vgIndexOf(view, r.vgName);
        if (i >= 0 && this.free[i]! >= this.need(r, i)) this.order[base + n++] = i;
        return n;
      }
      const spread = this.strategy === "spread";
      for (let i = 0; i < this.nVg; i++) {
        const f = this.free[i]!;
        if (f < this.need(r, i)) continue;
        // Insertion sort by free bytes (few VGs per node): ascending for binpack, descending for spread.
        let k = n++;
        while (k > 0) {
          const prev = this.free[this.order[base + k - 1]!]!;
          if (spread ? prev >= f : prev <= f) break;
          this.order[base + k] = this.order[base + k - 1]!;
          k--;
        }
        this.order[base + k] = i;
      }
      return n;
    }
    // Devices and mount points are sorted by size already, so index order is smallest-fit order.
    for (let j = 0; j < view.devices.length; j++) {
      const d = view.devices[j]!;
      if (this.free[this.nVg + j]! < r.bytes || d.kind !== r.kind) continue;
      if (r.mediaType !== undefined && d.mediaType !== r.mediaType) continue;
      this.order[base + n++] = this.nVg + j;
    }
    return n;
  }
}
