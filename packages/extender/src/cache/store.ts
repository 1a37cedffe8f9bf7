import type { V1Lease, V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from "@kubernetes/client-node";
import {
  ANNOTATION_NLS_ALLOCATION,
  ANNOTATION_SELECTED_NODE,
  DEFAULT_LEASE_NAMESPACE,
  LEASE_NAME_PREFIX,
  claimUidOfVolumeName,
  isStale,
  leaseNameForNode,
  roundToExtents,
  type NodeLocalStorage,
  type WirePod,
} from "@nls/api";
import { chooseOnNode, describeHolders, parseAllocationRecord } from "../claims.js";
import { asVersioned, pvClaim, pvRecord, type PvRecord } from "../pv-record.js";
import { holdReservations, type ClusterView, type NodeRecord } from "../decide.js";
import { type Allocation, isFirm, Ledger, samePlace } from "../ledger.js";
import { agentProblem, leaseExpiry, type LeaseMode } from "../lease.js";
import { NodeNameIndex } from "../node-name-index.js";
import { nodeViewFromNls, type NodeView } from "../node-view.js";
import { nodeState, type NodeState } from "../placement.js";
import { overcommittedVgs } from "../overcommit.js";
import type { Strategy } from "../scoring.js";
import { repackLoose, type LooseClaim } from "../repack.js";
import {
  claimKey,
  localClassOf,
  lvmBytes,
  pvcSize,
  volumeRequest,
  type LocalClass,
  type ObjectLookup,
  type PodStorage,
  type VolumeRequest,
} from "../request.js";
import { chargeLvs, lvLedgerKey, type LvCharge, type LvExplanation } from "../lv-accounting.js";
import type { NodeLv } from "../node-view.js";

export interface StoreOptions {
  strategy: Strategy;
  leaseMode: LeaseMode;
  leaseNamespace: string;
}

const pvKey = (name: string): string => `pv:${name}`;

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The extender's view of the cluster: the objects the informers deliver, a precomputed `NodeView` per
 * NLS, agent lease expiries, and the ledger kept in step with every PV/PVC event. Informers call the
 * `apply*`/`delete*` methods; tests call them directly; the routes change the ledger through `hold`,
 * `allocate` and `expire`. Everything a request reads is a map lookup.
 *
 * After every change, the loose claims (VG or device not decided by anyone yet) of each node it
 * touched are packed again together (`repackLoose`), so their spots never depend on arrival order.
 */
export class ClusterStore implements ObjectLookup, ClusterView {
  readonly ledger = new Ledger((node) => this.nodeChanged(node));
  /** Per node: its view, lease expiry and ledger usage, so a request does one lookup per node. */
  private readonly records = new Map<string, NodeRecord>();
  private readonly nlsObjects = new Map<string, NodeLocalStorage>();
  private readonly pvcs = new Map<string, V1PersistentVolumeClaim>();
  /** PVs as records (`PvRecord`), not the API objects: at 50,000 PVs the objects were most of the heap. */
  private readonly pvs = new Map<string, PvRecord>();
  /** StorageClass name → local class, or null for a class of another provisioner. */
  private readonly classes = new Map<string, LocalClass | null>();
  /** PVC key → the local PV whose claimRef names it (its record holds the claim uid it was made for). */
  private readonly pvByClaim = new Map<string, PvRecord>();
  /**
   * Allocations granted before this cache saw the PVC's selection of their node (the CSI driver only
   * calls for a selected PVC, so the cache is behind): older PVC events must not end them. They stand
   * until the selection shows, the PVC the patch returned is applied, or `expiresAt`.
   */
  private readonly unconfirmed = new Map<string, { node: string; expiresAt: number }>();
  /** PVC uid → its key: an LV named for a claim whose PV does not exist yet says which claim it is for. */
  private readonly claimByUid = new Map<string, string>();
  /**
   * Nodes whose state has a VG committed beyond its allocatable (`overcommittedVgs`), kept with every
   * state change so a scrape reads them without walking every node.
   */
  private readonly overcommitted = new Set<string>();
  /** Per node: the LVs the ledger counts because no PV or claim accounts for them (all or part). */
  private readonly lvCharges = new Map<string, LvCharge[]>();
  /** Nodes whose ledger usage or view changed since their loose claims were last packed. */
  private readonly touched = new Set<string>();
  private repacking = false;
  /** While `hold` runs: the nodes whose state it makes again when done (see `hold`). */
  private statesLater: Set<string> | undefined;
  readonly options: StoreOptions;
  /**
   * Bumped on every NLS change; with the ledger's version it makes `revision`. Lease renewals do not
   * count: at 5,000 nodes they arrive hundreds of times a second and change no placement.
   */
  private nodeChanges = 0;
  /** Bumped whenever a PV is added, replaced or removed (`pvRevision`). */
  private pvChanges = 0;
  /** Bumped when a node record is created, which invalidates `listCache`. */
  private generation = 0;
  /** `nodeNames()`, until a node gains or loses its NLS. */
  private sortedNames: string[] | undefined;
  /** `nameIndex()`, built from `sortedNames`. */
  private nameIndexCache: NodeNameIndex | undefined;
  private listCache:
    { names: readonly string[]; records: Array<NodeRecord | undefined>; generation: number } | undefined;

  constructor(options: Partial<StoreOptions> = {}) {
    this.options = {
      strategy: options.strategy ?? "binpack",
      leaseMode: options.leaseMode ?? "required",
      leaseNamespace: options.leaseNamespace ?? DEFAULT_LEASE_NAMESPACE,
    };
  }

  // ---- ObjectLookup / ClusterView -------------------------------------------------------------

  pvc(namespace: string, name: string): V1PersistentVolumeClaim | undefined {
    return this.pvcs.get(claimKey(namespace, name));
  }
  pv(name: string): PvRecord | undefined {
    return this.pvs.get(name);
  }
  localClass(name: string): LocalClass | undefined {
    return this.classes.get(name) ?? undefined;
  }
  /** Whether a StorageClass of that name is known at all (local or not). */
  hasClass(name: string): boolean {
    return this.classes.has(name);
  }
  /** Changes whenever a PV is added, replaced or removed: while it stands, `allPvs()` holds the same objects. */
  get pvRevision(): number {
    return this.pvChanges;
  }
  /** Changes whenever anything a filter or prioritize answer depends on changes. */
  get revision(): number {
    return this.ledger.version + this.nodeChanges;
  }
  get leaseMode(): LeaseMode {
    return this.options.leaseMode;
  }
  record(name: string): NodeRecord | undefined {
    return this.records.get(name);
  }

  /**
   * The records of a node list, in order. kube-scheduler can send the same list pod after pod, so the
   * last answer is kept: comparing the names is cheaper than looking each one up again. (A real
   * kube-scheduler reorders its list from pod to pod; then every name is looked up — cheaply when the
   * list was decoded with `nameIndex()`, whose strings are the map's own keys, their hashes known.)
   */
  recordsFor(names: readonly string[]): ReadonlyArray<NodeRecord | undefined> {
    const c = this.listCache;
    if (c && c.generation === this.generation && sameNames(c.names, names)) return c.records;
    const records = names.map((n) => this.records.get(n));
    this.listCache = { names, records, generation: this.generation };
    return records;
  }
  node(name: string): NodeView | undefined {
    return this.records.get(name)?.state?.view;
  }
  agentProblem(name: string, now: number): string | undefined {
    return agentProblem(
      this.records.get(name)?.leaseExpiry,
      this.options.leaseMode,
      now,
      `${this.options.leaseNamespace}/${leaseNameForNode(name)}`,
    );
  }
  /** Nodes with a NodeLocalStorage, sorted (kept until a node gains or loses its NLS). */
  nodeNames(): readonly string[] {
    this.sortedNames ??= [...this.records]
      .filter(([, r]) => r.state)
      .map(([n]) => n)
      .sort();
    return this.sortedNames;
  }
  /** `nodeNames()` found by their bytes (kept as long as `nodeNames()` is). */
  nameIndex(): NodeNameIndex {
    const names = this.nodeNames();
    if (this.nameIndexCache?.names !== names) this.nameIndexCache = new NodeNameIndex(names);
    return this.nameIndexCache;
  }
  nlsObject(name: string): NodeLocalStorage | undefined {
    return this.nlsObjects.get(name);
  }
  allPvs(): IterableIterator<PvRecord> {
    return this.pvs.values();
  }
  /** The local PV holding a PVC's volume, if any: same claimRef, and same uid when both are known. */
  boundPv(key: string): string | undefined {
    const pv = this.pvByClaim.get(key);
    if (!pv) return undefined;
    const uid = this.pvcs.get(key)?.metadata?.uid;
    return uid && pv.claimUid && uid !== pv.claimUid ? undefined : pv.name;
  }

  // ---- ledger changes made by the routes -----------------------------------------------------------

  /** Holds a pod's volumes where `placements` put them (filter/prioritize); returns how many were held. */
  hold(pod: WirePod, storage: PodStorage, placements: readonly Allocation[], ttlMs: number, now: number): number {
    // Neither the reservations nor the re-pack read a node's state: it is made once per node at the
    // end, not after each of the dozen ledger changes a pod's re-held claims make.
    this.statesLater = new Set();
    try {
      const held = holdReservations(this.ledger, pod, storage, placements, ttlMs, now);
      this.repackTouched();
      return held;
    } finally {
      const later = this.statesLater;
      this.statesLater = undefined;
      for (const name of later) this.refreshState(name);
    }
  }

  /**
   * The reserve route's decision for a claim on `node`, checked and recorded in one synchronous step.
   * First come, first served against what is really decided — PVs, allocations, and selected PVCs
   * whose class names their VG (the CSI driver creates those without asking) — never against other
   * claims' forecasts (tentative reservations, selected PVCs still waiting for their own call). The
   * claim's earlier allocation stands while it still fits; otherwise the claim is placed again,
   * preferring the spot it was held on. A refusal names what holds the space.
   */
  grant(
    key: string,
    node: string,
    request: VolumeRequest,
    unconfirmedUntil = 0,
  ): { ok: true; allocation: Allocation; changed: boolean } | { ok: false; reason: string } {
    const view = this.node(node);
    if (!view) return { ok: false, reason: `node ${node} has no NodeLocalStorage` };
    const current = this.ledger.source(key, "allocation");
    const stands =
      current?.node === node &&
      (request.kind !== "lvm"
        ? !!(request.kind === "device" ? current.device : current.mountPoint)
        : !!current.vg && (request.vgName === undefined || current.vg === request.vgName));
    const preferred = stands ? current : this.ledger.effective(key)?.allocation;
    const chosen = chooseOnNode(request, view, this.ledger.firmUsage(node, key), this.options.strategy, preferred);
    if (!chosen.ok) {
      const holders = this.ledger.holders(node).filter((h) => h.key !== key && isFirm(h.kind, h.allocation));
      return { ok: false, reason: `${chosen.reason} (${describeHolders(holders, request)})` };
    }
    const changed = !current || !samePlace(current, chosen.allocation);
    const selected = this.pvcs.get(key)?.metadata?.annotations?.[ANNOTATION_SELECTED_NODE];
    if (selected !== node) this.unconfirmed.set(key, { node, expiresAt: unconfirmedUntil });
    if (changed) {
      this.ledger.set(key, "allocation", chosen.allocation);
      this.repackTouched();
    }
    return { ok: true, allocation: chosen.allocation, changed };
  }

  /** Ends the reservations (and unconfirmed allocations) whose TTL has passed; returns how many. */
  expire(now: number): number {
    const n = this.ledger.expire(now);
    let m = 0;
    for (const [key, u] of this.unconfirmed) {
      if (u.expiresAt > now) continue;
      this.unconfirmed.delete(key);
      this.refreshClaim(key);
      m++;
    }
    if (n + m > 0) this.repackTouched();
    return n;
  }

  // ---- events -----------------------------------------------------------------------------------

  applyNls(nls: NodeLocalStorage): void {
    this.nodeChanges++;
    const name = nls.metadata?.name;
    if (!name) return;
    this.nlsObjects.set(name, nls);
    const r = this.recordFor(name);
    if (!r.state) this.sortedNames = undefined;
    this.setState(name, r, nodeState(nodeViewFromNls(name, nls), r.usage));
    this.touched.add(name);
    this.repackTouched();
  }
  deleteNls(name: string): void {
    this.nodeChanges++;
    this.nlsObjects.delete(name);
    const r = this.records.get(name);
    if (r?.state) this.sortedNames = undefined;
    if (r) this.setState(name, r, undefined);
    this.touched.add(name);
    this.repackTouched();
  }

  applyLease(lease: V1Lease): void {
    const name = lease.metadata?.name;
    if (!name?.startsWith(LEASE_NAME_PREFIX)) return;
    if (lease.metadata?.namespace && lease.metadata.namespace !== this.options.leaseNamespace) return;
    this.recordFor(name.slice(LEASE_NAME_PREFIX.length)).leaseExpiry = leaseExpiry(lease) ?? Number.NaN;
  }
  deleteLease(name: string): void {
    if (!name.startsWith(LEASE_NAME_PREFIX)) return;
    const r = this.records.get(name.slice(LEASE_NAME_PREFIX.length));
    if (r) r.leaseExpiry = undefined;
  }

  applyStorageClass(sc: V1StorageClass): void {
    const name = sc.metadata?.name;
    if (!name) return;
    this.classes.set(name, localClassOf(sc) ?? null);
    this.refreshClass(name);
    this.repackTouched();
  }
  deleteStorageClass(name: string): void {
    this.classes.delete(name);
    this.refreshClass(name);
    this.repackTouched();
  }

  applyPv(object: V1PersistentVolume): void {
    const pv = pvRecord(object);
    if (!pv) return;
    const name = pv.name;
    const previous = this.pvs.get(name);
    if (isStale(object, asVersioned(previous))) return;
    this.pvs.set(name, pv);
    this.pvChanges++;
    const oldClaim = previous ? pvClaim(previous) : undefined;
    const alloc = pv.allocation;
    const claim = alloc ? pvClaim(pv) : undefined;
    if (oldClaim && oldClaim !== claim && this.pvByClaim.get(oldClaim)?.name === name) this.pvByClaim.delete(oldClaim);
    if (claim) this.pvByClaim.set(claim, pv);
    this.ledger.set(pvKey(name), "pv", alloc && this.withExpansion(name, alloc, claim));
    if (claim) {
      // The PV now holds the space: the PVC's own commitments (reservation, selection) end here.
      if (this.boundPv(claim) === name) this.ledger.clear(claim, "pv", alloc);
    }
    if (oldClaim && oldClaim !== claim) this.refreshClaim(oldClaim);
    this.repackTouched();
  }
  deletePv(name: string): void {
    const pv = this.pvs.get(name);
    if (this.pvs.delete(name)) this.pvChanges++;
    this.ledger.set(pvKey(name), "pv", undefined);
    const claim = pv ? pvClaim(pv) : undefined;
    if (claim && this.pvByClaim.get(claim)?.name === name) {
      this.pvByClaim.delete(claim);
      this.refreshClaim(claim);
    }
    this.repackTouched();
  }

  /**
   * A PVC event, or (`patched`) the PVC the reserve route's own patch returned: the current object, so
   * it confirms or ends an unconfirmed allocation. Versions older than the cached one are ignored.
   */
  applyPvc(pvc: V1PersistentVolumeClaim, patched = false): void {
    const ns = pvc.metadata?.namespace;
    const name = pvc.metadata?.name;
    if (!ns || !name) return;
    const key = claimKey(ns, name);
    if (patched) this.unconfirmed.delete(key);
    if (isStale(pvc, this.pvcs.get(key))) return;
    this.pvcs.set(key, pvc);
    const uid = pvc.metadata?.uid;
    if (uid) this.claimByUid.set(uid, key);
    this.refreshClaim(key);
    this.repackTouched();
  }
  deletePvc(namespace: string, name: string): void {
    const key = claimKey(namespace, name);
    const uid = this.pvcs.get(key)?.metadata?.uid;
    if (uid && this.claimByUid.get(uid) === key) this.claimByUid.delete(uid);
    this.pvcs.delete(key);
    this.unconfirmed.delete(key);
    this.ledger.clear(key, "pvc-deleted");
    this.repackTouched();
  }

  private recordFor(name: string): NodeRecord {
    let r = this.records.get(name);
    if (!r) {
      r = { state: undefined, leaseExpiry: undefined, usage: this.ledger.usageFor(name) };
      this.records.set(name, r);
      this.generation++;
    }
    return r;
  }

  /** Recomputes a node's free space after its ledger usage changed, and marks it for re-packing. */
  private nodeChanged(name: string): void {
    if (this.statesLater) this.statesLater.add(name);
    else this.refreshState(name);
    if (!this.repacking) this.touched.add(name);
  }

  /** The node's state made again from its view and its ledger usage. */
  private refreshState(name: string): void {
    const r = this.records.get(name);
    if (r?.state) this.setState(name, r, nodeState(r.state.view, r.usage));
  }

  /** A node's state replaced (never edited: see `Placer.assess`), and `overcommitted` kept with it. */
  private setState(name: string, r: NodeRecord, state: NodeState | undefined): void {
    r.state = state;
    if (state && overcommittedVgs(state).length > 0) this.overcommitted.add(name);
    else this.overcommitted.delete(name);
  }

  // ---- ledger upkeep -------------------------------------------------------------------------------

  /** The PVC key a PV's claimRef names (a recreated PVC of that name is told apart by `boundPv`). */
  private refreshClass(className: string): void {
    for (const [key, pvc] of this.pvcs) if (pvc.spec?.storageClassName === className) this.refreshClaim(key);
  }

  /**
   * A PV's commitment with its claim's expansion: a bound PVC whose request grew past the PV's capacity
   * (an expansion under way, or one that failed) will hold, or already holds, the larger size in its VG.
   * The PV's capacity is raised only once the resize succeeded; until then the growth is counted from
   * the request, so no other volume is promised those bytes. Device and MountPoint volumes take their
   * unit whole and do not grow.
   */
  private withExpansion(pvName: string, alloc: Allocation, claim: string | undefined): Allocation {
    if (!claim || alloc.device || alloc.mountPoint || this.boundPv(claim) !== pvName) return alloc;
    const pvc = this.pvcs.get(claim);
    const requested = pvc ? pvcSize(pvc) : undefined;
    const grown = requested?.ok ? this.lvmBytesIn(alloc.node, alloc.vg, requested.bytes) : 0;
    return grown > alloc.bytes ? { ...alloc, bytes: grown } : alloc;
  }

  /** Recomputes the durable sources of one PVC from its current object. */
  private refreshClaim(key: string): void {
    const pvc = this.pvcs.get(key);
    const cls = pvc?.spec?.storageClassName ? this.localClass(pvc.spec.storageClassName) : undefined;
    const boundTo = this.boundPv(key);
    const bound = boundTo !== undefined;
    if (bound) {
      // The claim's request may have grown (an expansion): its PV's commitment follows it.
      const alloc = this.pvs.get(boundTo)!.allocation;
      if (alloc) this.ledger.set(pvKey(boundTo), "pv", this.withExpansion(boundTo, alloc, key));
    }
    if (!pvc || !cls || bound) {
      if (this.ledger.effective(key)) this.ledger.clear(key, bound ? "pv" : "pvc-deleted");
      return;
    }
    const annotations = pvc.metadata?.annotations ?? {};
    const node = annotations[ANNOTATION_SELECTED_NODE];
    // An allocation lives exactly as long as kube-scheduler's selection of its node: the CSI driver
    // asks only for a selected node, and a selection removed (a failed provisioning, or an operator
    // unsticking the PVC) or moved to another node means the volume will not be made there. The one
    // the reserve route just made counts before the watch echoes its annotation.
    const held = this.ledger.source(key, "allocation");
    const recorded = parseAllocationRecord(annotations[ANNOTATION_NLS_ALLOCATION]);
    const early = this.unconfirmed.get(key);
    if (early && early.node === node) this.unconfirmed.delete(key);
    const allocation =
      held && early && held.node === early.node && node !== early.node
        ? held // an event older than the selection the CSI driver acted on
        : !node
          ? undefined
          : held?.node === node
            ? held
            : recorded?.node === node
              ? recorded
              : undefined;
    this.ledger.set(key, "allocation", allocation);
    this.ledger.set(key, "selected", node ? this.selectedAllocation(key, pvc, cls, node) : undefined);
  }

  /**
   * The commitment of a PVC that kube-scheduler assigned to `node` but that is not provisioned yet.
   * A class that names its VG commits that VG (the CSI driver creates the volume there without
   * asking); otherwise the spot is the ledger's own pick — where the claim was held on that node, else
   * where it fits now — and the node's loose claims are packed again together afterwards.
   */
  private selectedAllocation(
    key: string,
    pvc: V1PersistentVolumeClaim,
    cls: LocalClass,
    node: string,
  ): Allocation | undefined {
    const size = pvcSize(pvc);
    if (!size.ok) return undefined;
    const request = volumeRequest(cls, key, size.bytes);
    if ("invalid" in request) return undefined;
    if (request.kind === "lvm" && request.vgName) {
      return { node, vg: request.vgName, bytes: this.lvmBytesIn(node, request.vgName, request.bytes) };
    }
    const current = this.ledger.source(key, "selected") ?? this.ledger.tentativeOf(key);
    const currentBytes =
      current && request.kind === "lvm" ? this.lvmBytesIn(node, current.vg, request.bytes) : request.bytes;
    if (
      current &&
      current.node === node &&
      current.bytes === currentBytes &&
      (current.vg || current.device || current.mountPoint)
    ) {
      const { vg, device, mountPoint } = current;
      return { node, vg, device, mountPoint, bytes: request.bytes, loose: true };
    }
    const view = this.node(node);
    const chosen = view
      ? chooseOnNode(request, view, this.ledger.usageWithout(node, [key]), this.options.strategy)
      : undefined;
    // Without an NLS, or where it does not fit, the bytes still count on the node (the re-pack or the
    // NLS arriving places them), so an overcommit shows in the ledger instead of vanishing.
    const bytes = request.kind === "lvm" ? lvmBytes(request.bytes) : request.bytes;
    return chosen?.ok ? { ...chosen.allocation, loose: true } : { node, bytes, loose: true };
  }

  /** What an LVM volume of `bytes` takes in a node's VG: whole extents of its size (4 MiB when unknown). */
  private lvmBytesIn(node: string, vg: string | undefined, bytes: number): number {
    const view = vg === undefined ? undefined : this.node(node);
    const i = view && vg !== undefined ? view.vgIndex.get(vg) : undefined;
    return i === undefined ? lvmBytes(bytes) : roundToExtents(bytes, view!.vgs[i]!.extentBytes);
  }

  /** What a loose claim asks for, from its PVC's class. */
  private requestOf(key: string, bytes: number): VolumeRequest {
    const className = this.pvcs.get(key)?.spec?.storageClassName;
    const cls = className ? this.localClass(className) : undefined;
    const request = cls ? volumeRequest(cls, key, bytes) : undefined;
    return request && !("invalid" in request) ? request : { kind: "lvm", claim: key, bytes };
  }

  /** The LVs of a node the ledger counts because nothing else accounts for them (for operators). */
  unexplainedLvs(node: string): readonly LvCharge[] {
    return this.lvCharges.get(node) ?? [];
  }

  /**
   * Bound claims on `node` whose request has grown past their PV's capacity (an expansion under way or
   * failed): the ledger counts the request. The extender is not asked about expansions — the resizer
   * and the CSI driver grow the LV — so this, with `overcommittedVgs`, is how one that does not fit shows.
   */
  expansions(node: string): Array<{ pv: string; claim: string; vg?: string; fromBytes: number; toBytes: number }> {
    const out = [];
    for (const h of this.ledger.holders(node)) {
      if (h.kind !== "pv" || !h.key.startsWith("pv:")) continue;
      const name = h.key.slice(3);
      const pv = this.pvs.get(name);
      const base = pv?.allocation;
      const claim = pv ? pvClaim(pv) : undefined;
      if (!base || !claim || h.allocation.bytes <= base.bytes) continue;
      out.push({ pv: name, claim, vg: h.allocation.vg, fromBytes: base.bytes, toBytes: h.allocation.bytes });
    }
    return out.sort((a, b) => (a.pv < b.pv ? -1 : 1));
  }

  /** Nodes with a VG committed beyond its allocatable (see `overcommittedVgs`), sorted. */
  nodesOvercommitted(): string[] {
    return [...this.overcommitted].sort();
  }

  /** Nodes with LVs the ledger counts because nothing else accounts for them. */
  nodesWithUnexplainedLvs(): string[] {
    return [...this.lvCharges.keys()].sort();
  }

  /**
   * What accounts for an LV on `node` in the ledger: the local PV of the LV's name on that node (open-local's
   * CSI driver names the LV after the PV), else the claim whose uid the name ends with (external-provisioner
   * names the PV `<prefix>-<claim uid>`; the LV exists before the PV object) while the claim holds
   * space on that node — a reservation, a selection or the reserve route's allocation.
   */
  private explainLv(node: string, lv: NodeLv): LvExplanation | undefined {
    const pv = this.pvs.get(lv.name);
    if (pv?.local && pv.node === node) {
      const held = this.ledger.effective(pvKey(lv.name))?.allocation;
      return { by: `pv ${lv.name}`, bytes: held?.bytes ?? 0, vg: held?.vg };
    }
    const uid = claimUidOfVolumeName(lv.name);
    const key = uid === undefined ? undefined : this.claimByUid.get(uid);
    if (key === undefined || this.pvcs.get(key)?.metadata?.uid !== uid) return undefined;
    const held = this.ledger.effective(key)?.allocation;
    if (held?.node !== node) return undefined;
    return { by: key, bytes: held.bytes, vg: held.device || held.mountPoint ? "" : held.vg };
  }

  /**
   * Charges the node's LVs that nothing in the ledger accounts for, as ledger sources of their own,
   * in the same synchronous step as the change that made them so: a PV deleted, a claim's hold ended,
   * or a new LV in the NLS. Nothing is ever uncounted in between.
   */
  private chargeNodeLvs(node: string): void {
    const charges = chargeLvs(this.node(node)?.lvs ?? [], (lv) => this.explainLv(node, lv));
    const before = this.lvCharges.get(node) ?? [];
    if (charges.length === 0 && before.length === 0) return;
    const keep = new Set(charges.map((c) => lvLedgerKey(node, c.vg, c.lv)));
    for (const c of before) {
      const key = lvLedgerKey(node, c.vg, c.lv);
      if (!keep.has(key)) this.ledger.set(key, "lv", undefined);
    }
    for (const c of charges) {
      const charge: Allocation = { node, vg: c.vg, bytes: c.bytes, ...(c.why === "excess" ? { excess: true } : {}) };
      this.ledger.set(lvLedgerKey(node, c.vg, c.lv), "lv", charge);
    }
    if (charges.length > 0) this.lvCharges.set(node, charges);
    else this.lvCharges.delete(node);
  }

  /**
   * After every change: charges the LVs of every touched node that nothing else accounts for, then packs
   * their loose claims again (see `repackLoose`).
   */
  private repackTouched(): void {
    if (this.repacking) return;
    this.repacking = true;
    try {
      for (const node of this.touched) {
        this.chargeNodeLvs(node);
        const view = this.node(node);
        if (!view) continue;
        const loose: LooseClaim[] = [];
        for (const h of this.ledger.holders(node)) {
          if (h.allocation.loose && (h.kind === "selected" || h.kind === "tentative")) {
            loose.push({ key: h.key, request: this.requestOf(h.key, h.allocation.bytes) });
          }
        }
        if (loose.length === 0) continue;
        const base = this.ledger.usageWithout(
          node,
          loose.map((c) => c.key),
        );
        for (const [key, to] of repackLoose(view, base, loose, this.options.strategy)) {
          const now = this.ledger.effective(key)?.allocation;
          if (now && !samePlace(now, to)) this.ledger.relocate(key, to);
        }
      }
    } finally {
      this.touched.clear();
      this.repacking = false;
    }
  }
}
