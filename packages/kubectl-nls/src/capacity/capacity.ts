import type { LedgerSnapshot, LocalClass, SourceKind } from "@nls/extender";
import { lvOfLedgerKey, nodeViewFromNls } from "@nls/extender";
import {
  agentStatus,
  leasesByName,
  type AgentStatus,
  type ClusterState,
  type DecisionSettings,
} from "../cluster/state.js";

/**
 * "How much room is left": per node and selected VG, what the agent reports as allocatable and what the
 * ledger has committed there, broken down by the source that holds each claim. Pure: the cluster's
 * objects, a ledger snapshot (the extender's own, or one built from the same objects) and the clock in.
 */

/** Committed bytes by the ledger source that holds them (only the strongest source of a claim counts). */
export type CommittedBySource = Record<SourceKind, number>;

export interface VgCapacity {
  name: string;
  allocatable: number;
  committed: number;
  bySource: CommittedBySource;
  /** allocatable − committed; negative when the VG is overcommitted. */
  free: number;
  /** committed / allocatable (0 when nothing is allocatable). */
  utilisation: number;
}

export interface NodeCapacity {
  node: string;
  vgs: VgCapacity[];
  /** Bytes committed on the node whose VG is not decided yet (the extender holds them against its emptiest VG). */
  undecided: number;
  /** Selected VGs that cannot take volumes, with why. */
  unusableVgs: Array<{ name: string; why: string }>;
  /**
   * Selected devices (with --class: of its media type; with a MountPoint class: its mount points), and
   * how many no claim holds.
   */
  devices: { total: number; free: number };
  agent: AgentStatus;
  /**
   * LVs of the node's VGs that no PV or claim accounts for, which the extender counts as used (`excess`:
   * only the part beyond what its PV counts): what an operator removes to get the space back.
   */
  unexplainedLvs: Array<{ vg: string; lv: string; bytes: number; excess: boolean }>;
}

export interface CapacityTotals {
  allocatable: number;
  committed: number;
  free: number;
  utilisation: number;
  devices: { total: number; free: number };
  /** Nodes whose agent the extender trusts. */
  agentsOk: number;
  /** The VG with the most free bytes on a node whose agent is trusted: the largest new volume that fits anywhere. */
  largestFree?: { node: string; vg: string; bytes: number };
}

export interface Capacity {
  nodes: NodeCapacity[];
  totals: CapacityTotals;
  /** Nodes (Node objects) without a NodeLocalStorage: no local storage is offered there. */
  nodesWithoutNls: string[];
}

export interface CapacityQuery {
  node?: string;
  /** Only what a volume of this class can use: its VG (or every VG), or devices of its media type. */
  localClass?: LocalClass;
}

const noSources = (): CommittedBySource => ({ pv: 0, lv: 0, allocation: 0, selected: 0, tentative: 0 });

const ratio = (used: number, capacity: number): number => (capacity > 0 ? used / capacity : 0);

/** Per node, the LVs the ledger charges because nothing else accounts for them. */
function unexplainedLvIndex(ledger: LedgerSnapshot): Map<string, NodeCapacity["unexplainedLvs"]> {
  const out = new Map<string, NodeCapacity["unexplainedLvs"]>();
  for (const [key, claim] of Object.entries(ledger.claims)) {
    const lv = lvOfLedgerKey(key);
    if (!lv || claim.source !== "lv") continue;
    const list = out.get(lv.node) ?? [];
    list.push({ vg: lv.vg, lv: lv.lv, bytes: claim.bytes, excess: claim.excess === true });
    out.set(lv.node, list);
  }
  return out;
}

/** Committed bytes per node, VG and source, from the snapshot's claims. */
function bySourceIndex(ledger: LedgerSnapshot): Map<string, CommittedBySource> {
  const out = new Map<string, CommittedBySource>();
  for (const claim of Object.values(ledger.claims)) {
    if (!claim.vg) continue;
    const key = `${claim.node}\u0000${claim.vg}`;
    const sources = out.get(key) ?? noSources();
    sources[claim.source] += claim.bytes;
    out.set(key, sources);
  }
  return out;
}

export function capacity(
  state: ClusterState,
  ledger: LedgerSnapshot,
  settings: DecisionSettings,
  now: number,
  query: CapacityQuery = {},
): Capacity {
  const leases = leasesByName(state, settings);
  const sources = bySourceIndex(ledger);
  const lvs = unexplainedLvIndex(ledger);
  const cls = query.localClass;
  const nodes: NodeCapacity[] = [];
  const withNls = new Set<string>();
  for (const nls of [...state.objects.nls].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))) {
    const name = nls.metadata.name!;
    withNls.add(name);
    if (query.node !== undefined && name !== query.node) continue;
    const view = nodeViewFromNls(name, nls);
    const usage = ledger.nodes[name];
    const lvm = !cls || cls.volumeType === "LVM";
    const vgs: VgCapacity[] = view.vgs
      .filter(() => lvm)
      .filter((vg) => !cls?.vgName || vg.name === cls.vgName)
      .map((vg) => {
        const committed = usage?.vgs[vg.name] ?? 0;
        return {
          name: vg.name,
          allocatable: vg.allocatable,
          committed,
          bySource: sources.get(`${name}\u0000${vg.name}`) ?? noSources(),
          free: vg.allocatable - committed,
          utilisation: ratio(committed, vg.allocatable),
        };
      });
    // Devices; with a MountPoint class its mount points (a volume of either takes the unit whole).
    const unit = cls?.volumeType === "MountPoint" ? "mountpoint" : "device";
    const ofClass = (d: { mediaType: string }) => !cls || (!lvm && (!cls.mediaType || d.mediaType === cls.mediaType));
    const taken = usage?.devices ?? {};
    // A device holding a volume stays counted (as taken) once the agent reports it in use, as it will:
    // the volume's data is on it. Other devices in use are never offered, so they are not counted at all.
    const bound = unit === "device" ? view.busyDevices.filter((d) => taken[d.name] !== undefined && ofClass(d)) : [];
    const devices = [...view.devices.filter((d) => d.kind === unit && ofClass(d)), ...bound];
    nodes.push({
      node: name,
      vgs,
      undecided: lvm ? (usage?.unplaced ?? 0) : 0,
      unusableVgs: [...view.unusableVgs]
        .filter(([vg]) => lvm && (!cls?.vgName || vg === cls.vgName))
        .map(([vg, why]) => ({ name: vg, why })),
      devices: { total: devices.length, free: devices.filter((d) => taken[d.name] === undefined).length },
      agent: agentStatus(name, leases, settings, now),
      unexplainedLvs: lvm ? (lvs.get(name) ?? []).filter((l) => !cls?.vgName || l.vg === cls.vgName) : [],
    });
  }
  const nodesWithoutNls = state.objects.nodes
    .map((n) => n.metadata!.name!)
    .filter((n) => !withNls.has(n) && (query.node === undefined || n === query.node))
    .sort();
  return { nodes, totals: totalsOf(nodes), nodesWithoutNls };
}

function totalsOf(nodes: readonly NodeCapacity[]): CapacityTotals {
  const t: CapacityTotals = {
    allocatable: 0,
    committed: 0,
    free: 0,
    utilisation: 0,
    devices: { total: 0, free: 0 },
    agentsOk: 0,
  };
  for (const n of nodes) {
    if (!n.agent.problem) t.agentsOk++;
    t.devices.total += n.devices.total;
    t.devices.free += n.devices.free;
    t.committed += n.undecided;
    for (const vg of n.vgs) {
      t.allocatable += vg.allocatable;
      t.committed += vg.committed;
      if (!n.agent.problem && (!t.largestFree || vg.free > t.largestFree.bytes)) {
        t.largestFree = { node: n.node, vg: vg.name, bytes: vg.free };
      }
    }
  }
  t.free = t.allocatable - t.committed;
  t.utilisation = ratio(t.committed, t.allocatable);
  return t;
}
