/**
 * The ledger: bytes committed per node and VG, and devices taken, so no VG is ever promised twice.
 *
 * Every commitment is held under a *claim key*: `ns/name` for a PVC, `pv:<name>` for a PV. A PVC key
 * has up to three sources, and only the strongest counts, so a volume moving through its life is
 * counted exactly once:
 *   allocation (reserve route, durable PVC annotation) > selected (selected-node annotation) > tentative
 * A PV key has the single source `pv`. When a PV bound to a PVC appears, the PVC's sources are cleared.
 * An LV key (`lv:<node>/<vg>/<name>`) has the single source `lv`: the bytes of an LV the agent reports
 * that no PV or claim in the ledger accounts for (`lv-accounting.ts`).
 * Tentative reservations expire at `expiresAt`; the caller passes time in. Every reservation that is
 * created is released exactly once, with a cause, so `created = live + Σ released`.
 *
 * Some commitments are *firm*: decided by someone who will act on them without asking again — a PV,
 * the reserve route's allocation, and a selected PVC whose class names its VG (open-local's CSI driver
 * creates it without calling the reserve route). The reserve route grants against firm usage only, first
 * come first served; everything else (selected PVCs waiting for the reserve call, tentative reservations)
 * is the ledger's own forecast and counts for filter and prioritize.
 */

export interface Allocation {
  node: string;
  /** LVM: the VG; undefined when not decided yet (counted as node-level `unplaced` bytes). */
  vg?: string;
  /** Device volumes: the whole device taken. */
  device?: string;
  /** MountPoint volumes: the whole mount point taken (its path). */
  mountPoint?: string;
  bytes: number;
  /**
   * The VG/device is the ledger's own pick, not decided by anyone else (the class names no VG, and
   * the reserve route has not allocated yet): it may be re-packed among the node's VGs.
   */
  loose?: boolean;
  /** Bytes an LV holds beyond what its PV or claim counts: not a volume of its own. */
  excess?: boolean;
}

export interface Tentative extends Allocation {
  /** The pod (uid) the reservation was made for, and its name for operators. */
  podUid: string;
  pod: string;
  expiresAt: number;
}

export type DurableSource = "pv" | "allocation" | "selected" | "lv";
export type SourceKind = DurableSource | "tentative";

export const RELEASE_CAUSES = ["selected-node", "allocation", "pv", "ttl", "pvc-deleted", "replaced"] as const;
export type ReleaseCause = (typeof RELEASE_CAUSES)[number];

export interface NodeUsage {
  /** Committed bytes per VG name. */
  vg: Map<string, number>;
  /** Taken device or mount point (its path) → claim key. */
  devices: Map<string, string>;
  /** Committed bytes whose VG is not decided yet. */
  unplaced: number;
  /** How many claims are counted on the node (volumes of every type, whatever their source). */
  volumes: number;
}

const isEmpty = (u: NodeUsage): boolean => u.vg.size === 0 && u.devices.size === 0 && u.unplaced === 0;

/** Same bytes in the same spot. */
export const samePlace = (a: Allocation, b: Allocation): boolean =>
  a.node === b.node && a.vg === b.vg && a.device === b.device && a.mountPoint === b.mountPoint && a.bytes === b.bytes;

const sameAllocation = (a: Allocation, b: Allocation): boolean =>
  samePlace(a, b) && !a.loose === !b.loose && !a.excess === !b.excess;

const emptyUsage = (): NodeUsage => ({ vg: new Map(), devices: new Map(), unplaced: 0, volumes: 0 });

/** Whether a source is decided by someone who will act on it without asking the extender again. */
export const isFirm = (kind: SourceKind, a: Allocation): boolean =>
  kind === "pv" || kind === "lv" || kind === "allocation" || (kind === "selected" && !a.loose);

/** One claim holding space on a node, for reasons an operator can act on. */
export interface Holder {
  key: string;
  kind: SourceKind;
  allocation: Allocation;
}

/** Adds (sign 1) or removes (sign -1) an allocation's bytes or device to a usage record. */
function account(u: NodeUsage, a: Allocation, key: string, sign: 1 | -1): void {
  if (!a.excess) u.volumes += sign;
  const unit = a.device ?? a.mountPoint;
  if (unit) {
    if (sign > 0) u.devices.set(unit, key);
    else if (u.devices.get(unit) === key) u.devices.delete(unit);
  } else if (a.vg) {
    const v = (u.vg.get(a.vg) ?? 0) + sign * a.bytes;
    if (v === 0) u.vg.delete(a.vg);
    else u.vg.set(a.vg, v);
  } else {
    u.unplaced += sign * a.bytes;
  }
}

interface Entry {
  pv?: Allocation;
  lv?: Allocation;
  allocation?: Allocation;
  selected?: Allocation;
  tentative?: Tentative;
  /** The source that counts; kept so an update can subtract exactly what was added. */
  effective?: Allocation;
  effectiveKind?: SourceKind;
}

const strongest = (e: Entry): [SourceKind, Allocation] | undefined =>
  e.pv
    ? ["pv", e.pv]
    : e.lv
      ? ["lv", e.lv]
      : e.allocation
        ? ["allocation", e.allocation]
        : e.selected
          ? ["selected", e.selected]
          : e.tentative
            ? ["tentative", e.tentative]
            : undefined;

/** Which release cause a durable source replacing a tentative reservation counts as. */
const REPLACED_BY: Record<DurableSource, ReleaseCause> = {
  pv: "pv",
  allocation: "allocation",
  selected: "selected-node",
  lv: "replaced", // an LV key never holds a tentative reservation
};

export interface LedgerSnapshot {
  nodes: Record<string, { vgs: Record<string, number>; devices: Record<string, string>; unplaced: number }>;
  claims: Record<string, { source: SourceKind } & Allocation>;
}

export class Ledger {
  private readonly entries = new Map<string, Entry>();
  private readonly usageByNode = new Map<string, NodeUsage>();
  /** Claim keys whose effective allocation is on a node. */
  private readonly claimsByNode = new Map<string, Set<string>>();
  private readonly tentatives = new Map<string, Tentative>();
  readonly released: Record<ReleaseCause, number> = Object.fromEntries(RELEASE_CAUSES.map((c) => [c, 0])) as Record<
    ReleaseCause,
    number
  >;
  created = 0;
  /**
   * Reservations whose successor (selected-node, allocation or PV) landed on another node: the hold
   * was on a node kube-scheduler did not choose, and that node's space was held for nothing.
   */
  misplaced = 0;
  /** Bumped on every change, so callers can tell whether anything moved. */
  version = 0;
  /** No reservation expires before this (a lower bound: released ones may have been earlier). */
  private nextExpiry = Number.POSITIVE_INFINITY;

  /** `onNodeChange` is told after a node's usage changed (the cache refreshes its precomputed state). */
  constructor(private readonly onNodeChange?: (node: string) => void) {}

  /** The node's committed space, or undefined when nothing is committed there. */
  usage(node: string): NodeUsage | undefined {
    const u = this.usageByNode.get(node);
    return u && !isEmpty(u) ? u : undefined;
  }

  /**
   * The node's usage object, created empty if needed and kept for the ledger's life, so a cache can
   * hold the reference and the hot path skips a map lookup.
   */
  usageFor(node: string): NodeUsage {
    let u = this.usageByNode.get(node);
    if (!u) {
      u = emptyUsage();
      this.usageByNode.set(node, u);
    }
    return u;
  }

  /** The claims whose effective allocation is on the node, with their kind. */
  holders(node: string): Holder[] {
    const out: Holder[] = [];
    for (const key of this.claimsByNode.get(node) ?? []) {
      const e = this.entries.get(key)!;
      out.push({ key, kind: e.effectiveKind!, allocation: e.effective! });
    }
    return out.sort((a, b) => b.allocation.bytes - a.allocation.bytes || (a.key < b.key ? -1 : 1));
  }

  /**
   * What the reserve route grants against: the node's firm commitments (PVs, allocations, selected
   * PVCs whose class names the VG), leaving out the claim `except` asks for.
   */
  firmUsage(node: string, except?: string): NodeUsage {
    const u = emptyUsage();
    for (const h of this.holders(node)) {
      if (h.key !== except && isFirm(h.kind, h.allocation)) account(u, h.allocation, h.key, 1);
    }
    return u;
  }

  /** A copy of the node's usage without the claims `keys` (which are about to be placed again). */
  usageWithout(node: string, keys: readonly string[]): NodeUsage {
    const u = this.usageByNode.get(node) ?? emptyUsage();
    const copy: NodeUsage = {
      vg: new Map(u.vg),
      devices: new Map(u.devices),
      unplaced: u.unplaced,
      volumes: u.volumes,
    };
    for (const key of keys) {
      const own = this.entries.get(key)?.effective;
      if (own?.node === node) account(copy, own, key, -1);
    }
    return copy;
  }

  get liveReservations(): number {
    return this.tentatives.size;
  }

  tentativeOf(key: string): Tentative | undefined {
    return this.tentatives.get(key);
  }

  source(key: string, kind: SourceKind): Allocation | undefined {
    return this.entries.get(key)?.[kind];
  }

  /** The allocation that counts for a claim key, with its kind. */
  effective(key: string): { kind: SourceKind; allocation: Allocation } | undefined {
    const e = this.entries.get(key);
    return e?.effective && e.effectiveKind ? { kind: e.effectiveKind, allocation: e.effective } : undefined;
  }

  /** Sets (or clears, with undefined) a durable source. A tentative reservation it supersedes is released. */
  set(key: string, kind: DurableSource, allocation: Allocation | undefined): void {
    const e = this.entries.get(key) ?? {};
    const was = e[kind];
    if (allocation === undefined ? was === undefined : was !== undefined && sameAllocation(was, allocation)) return;
    e[kind] = allocation;
    if (allocation && e.tentative) this.succeed(key, e, REPLACED_BY[kind], allocation);
    this.settle(key, e);
  }

  /**
   * Holds space for a pod's PVC between filter and the selected-node annotation. Returns false (and
   * holds nothing) when a durable source already covers the claim.
   */
  reserve(key: string, t: Tentative): boolean {
    const e = this.entries.get(key) ?? {};
    if (e.pv || e.allocation || e.selected) return false;
    if (e.tentative) this.dropTentative(key, e, "replaced");
    e.tentative = t;
    this.tentatives.set(key, t);
    if (t.expiresAt < this.nextExpiry) this.nextExpiry = t.expiresAt;
    this.created++;
    this.settle(key, e);
    return true;
  }

  /** Clears every source of a claim (PVC deleted, or a PV bound to it took over: `successor`). */
  clear(key: string, cause: ReleaseCause, successor?: Allocation): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (e.tentative) this.succeed(key, e, cause, successor);
    e.allocation = e.selected = undefined;
    if (cause !== "pv") e.pv = undefined;
    this.settle(key, e);
  }

  release(key: string, cause: ReleaseCause): boolean {
    const e = this.entries.get(key);
    if (!e?.tentative) return false;
    this.dropTentative(key, e, cause);
    this.settle(key, e);
    return true;
  }

  /**
   * Moves the effective selected or tentative source of a claim to another spot on the same node (a
   * re-pack of the node's loose claims). Nothing is released: the claim holds the same bytes.
   */
  relocate(key: string, to: Allocation): void {
    const e = this.entries.get(key);
    const kind = e?.effectiveKind;
    if (!e || (kind !== "selected" && kind !== "tentative") || e.effective!.node !== to.node) return;
    if (kind === "tentative") {
      const t: Tentative = { ...e.tentative!, vg: to.vg, device: to.device, mountPoint: to.mountPoint };
      e.tentative = t;
      this.tentatives.set(key, t);
    } else e.selected = to;
    this.settle(key, e);
  }

  /**
   * Releases reservations whose TTL has passed; returns how many. Called on every filter and
   * prioritize: until the earliest expiry it costs one comparison, not a pass over every reservation.
   */
  expire(now: number): number {
    if (now < this.nextExpiry) return 0;
    let n = 0;
    let next = Number.POSITIVE_INFINITY;
    const due: string[] = [];
    for (const [key, t] of this.tentatives) {
      if (t.expiresAt <= now) due.push(key);
      else if (t.expiresAt < next) next = t.expiresAt;
    }
    for (const key of due) if (this.release(key, "ttl")) n++;
    this.nextExpiry = next;
    return n;
  }

  snapshot(node?: string): LedgerSnapshot {
    const nodes: LedgerSnapshot["nodes"] = {};
    for (const name of [...this.usageByNode.keys()].sort()) {
      if (node !== undefined && name !== node) continue;
      const u = this.usageByNode.get(name)!;
      if (isEmpty(u)) continue;
      nodes[name] = {
        vgs: Object.fromEntries([...u.vg].sort(([a], [b]) => (a < b ? -1 : 1))),
        devices: Object.fromEntries([...u.devices].sort(([a], [b]) => (a < b ? -1 : 1))),
        unplaced: u.unplaced,
      };
    }
    const claims: LedgerSnapshot["claims"] = {};
    for (const key of [...this.entries.keys()].sort()) {
      const e = this.entries.get(key)!;
      if (!e.effective || !e.effectiveKind || (node !== undefined && e.effective.node !== node)) continue;
      const { node: n, vg, device, mountPoint, bytes, excess } = e.effective;
      claims[key] = {
        source: e.effectiveKind,
        node: n,
        bytes,
        ...(vg ? { vg } : {}),
        ...(device ? { device } : {}),
        ...(mountPoint ? { mountPoint } : {}),
        ...(excess ? { excess } : {}),
      };
    }
    return { nodes, claims };
  }

  private succeed(key: string, e: Entry, cause: ReleaseCause, successor: Allocation | undefined): void {
    if (successor && successor.node !== e.tentative!.node) this.misplaced++;
    this.dropTentative(key, e, cause);
  }

  private dropTentative(key: string, e: Entry, cause: ReleaseCause): void {
    e.tentative = undefined;
    this.tentatives.delete(key);
    this.released[cause]++;
  }

  private settle(key: string, e: Entry): void {
    const next = strongest(e);
    if (e.effective) this.apply(e.effective, key, -1);
    if (next) {
      [e.effectiveKind, e.effective] = next;
      this.apply(e.effective, key, 1);
      this.entries.set(key, e);
    } else {
      e.effective = e.effectiveKind = undefined;
      this.entries.delete(key);
    }
    this.version++;
  }

  private apply(a: Allocation, key: string, sign: 1 | -1): void {
    account(this.usageFor(a.node), a, key, sign);
    let claims = this.claimsByNode.get(a.node);
    if (sign > 0) {
      if (!claims) this.claimsByNode.set(a.node, (claims = new Set()));
      claims.add(key);
    } else if (claims?.delete(key) && claims.size === 0) this.claimsByNode.delete(a.node);
    this.onNodeChange?.(a.node);
  }
}
