import type { FailedNodesMap, HostPriority, WirePod } from "@nls/api";
import type { Allocation, Ledger, NodeUsage } from "./ledger.js";
import { agentTrusted, type LeaseMode } from "./lease.js";
import type { NodeView } from "./node-view.js";
import { Placer, type NodeState } from "./placement.js";
import type { Strategy } from "./scoring.js";
import { AGENT_REASON, capacityReason, NO_NLS_REASON } from "./reasons.js";
import type { PodStorage } from "./request.js";

/** All a request needs of one node, behind one lookup. */
export interface NodeRecord {
  /** The node's selected storage and free space; undefined without an NLS. */
  state: NodeState | undefined;
  /** Agent lease expiry in ms (NaN: unusable lease; undefined: no lease). */
  leaseExpiry: number | undefined;
  /** The ledger's live usage object for the node. */
  usage: NodeUsage;
}

/** What a filter or prioritize pass reads: precomputed node records and the ledger. */
export interface ClusterView {
  record(name: string): NodeRecord | undefined;
  /** `record` for each name, in order (may be cached across requests with the same list). */
  recordsFor(names: readonly string[]): ReadonlyArray<NodeRecord | undefined>;
  node(name: string): NodeView | undefined;
  readonly leaseMode: LeaseMode;
  /** Why the node's agent cannot be trusted right now (no/expired lease), or undefined when healthy. */
  agentProblem(name: string, now: number): string | undefined;
  readonly ledger: Ledger;
}

export const FAILURE_KINDS = ["no-nls", "agent", "pinned", "invalid", "unseen", "capacity"] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface FilterOutcome {
  passing: string[];
  /** Nodes preemption could help with: always empty, VG space is not freed by evicting pods. */
  failed: FailedNodesMap;
  /** What kube-scheduler shows per failing node: one short reason per failure class (reasons.ts). */
  unresolvable: FailedNodesMap;
  /** Why each failing node fails, with its numbers: for the log, `/cache` and `kubectl nls explain`. */
  details: FailedNodesMap;
  failures: Record<FailureKind, number>;
  /** Where the pod's volumes go on the one node left, when exactly one passes (for a reservation). */
  onlyPlacement?: Allocation[];
  /**
   * The prioritize score of each passing node (same order as `passing`), computed while its placement
   * is at hand: kube-scheduler asks to prioritize exactly these nodes next, for the same pod.
   */
  passingScores: number[];
}

/** The pod's own tentative reservations, by node: a retried pod must not be blocked by itself. */
export function ownCredit(storage: PodStorage, ledger: Ledger): Map<string, Allocation[]> {
  const credit = new Map<string, Allocation[]>();
  for (const key of storage.claims) {
    const eff = ledger.effective(key);
    if (eff?.kind !== "tentative") continue;
    const list = credit.get(eff.allocation.node) ?? [];
    list.push(eff.allocation);
    credit.set(eff.allocation.node, list);
  }
  return credit;
}

const emptyFailures = (): Record<FailureKind, number> => ({
  "no-nls": 0,
  agent: 0,
  pinned: 0,
  invalid: 0,
  unseen: 0,
  capacity: 0,
});

/** Why every node other than the pinned one fails, or undefined when the pod is not pinned. */
function pinProblem(storage: PodStorage): { node?: string; reason: string } | undefined {
  if (storage.pins.size === 0) return undefined;
  if (storage.pins.size > 1) {
    return { reason: `the pod's local volumes are on different nodes: ${[...storage.pins.values()].join("; ")}` };
  }
  const [[node, reason]] = [...storage.pins] as [[string, string]];
  return { node, reason };
}

export function filterNodes(
  storage: PodStorage,
  nodeNames: readonly string[],
  view: ClusterView,
  strategy: Strategy,
  now: number,
): FilterOutcome {
  const out: FilterOutcome = {
    passing: [],
    failed: {},
    unresolvable: {},
    details: {},
    failures: emptyFailures(),
    passingScores: [],
  };
  const fail = (node: string, kind: FailureKind, detail: string, reason = detail) => {
    out.unresolvable[node] = reason;
    out.details[node] = detail;
    out.failures[kind]++;
  };
  if (storage.invalid.length > 0) {
    const reason = storage.invalid.join("; ");
    for (const n of nodeNames) fail(n, "invalid", reason);
    return out;
  }
  if (storage.unseen.length > 0) {
    // Unresolvable, not merely failed: preemption must not evict pods because this cache is behind.
    // kube-scheduler retries the pod when the PVC event (or any other) arrives.
    const reason = storage.unseen.join("; ");
    for (const n of nodeNames) fail(n, "unseen", reason);
    return out;
  }
  const pin = pinProblem(storage);
  const placer = new Placer(storage.requests, strategy, ownCredit(storage, view.ledger));
  const needsNode = storage.requests.length > 0;
  const records = needsNode ? view.recordsFor(nodeNames) : [];
  for (let i = 0; i < nodeNames.length; i++) {
    const name = nodeNames[i]!;
    if (pin && pin.node !== name) {
      fail(name, "pinned", pin.reason);
      continue;
    }
    if (!needsNode) {
      out.passing.push(name);
      continue;
    }
    const rec = records[i];
    const state = rec?.state;
    if (!rec || !state) {
      fail(name, "no-nls", "no NodeLocalStorage for this node (is the nls agent running here?)", NO_NLS_REASON);
      continue;
    }
    if (!agentTrusted(rec.leaseExpiry, view.leaseMode, now)) {
      fail(name, "agent", view.agentProblem(name, now) ?? "nls agent not trusted", AGENT_REASON);
      continue;
    }
    const a = placer.assess(state);
    if (a.fits) {
      out.passing.push(name);
      out.passingScores.push(a.score);
    } else fail(name, "capacity", a.reason, capacityReason(storage.requests, state.view));
  }
  if (needsNode && out.passing.length === 1) {
    const node = out.passing[0]!;
    const rec = view.record(node)!;
    if (placer.place(rec.state!)) out.onlyPlacement = placer.placements();
  }
  return out;
}

export interface ScoreOutcome {
  /** Score per node, in the order of the node list (a typed array: no object per node). */
  scores: Uint8Array;
  /** The top-scored node's placement (first such node on ties), for a tentative reservation. */
  best?: Allocation[];
}

/** Scores every node 0..10; nodes that cannot take the pod (or are unknown) score 0, never an error. */
export function scoreNodes(
  storage: PodStorage,
  nodeNames: readonly string[],
  view: ClusterView,
  strategy: Strategy,
  now: number,
  known?: readonly number[],
): ScoreOutcome {
  const scores = new Uint8Array(nodeNames.length);
  if (storage.requests.length === 0 || storage.invalid.length > 0 || storage.unseen.length > 0) return { scores };
  const placer = new Placer(storage.requests, strategy, ownCredit(storage, view.ledger));
  if (known && known.length === nodeNames.length) {
    // Filter scored these nodes a moment ago against the same ledger: only the best one is placed again.
    let best = -1;
    for (let i = 0; i < known.length; i++) {
      scores[i] = known[i]!;
      if (best < 0 || known[i]! > known[best]!) best = i;
    }
    const state = best >= 0 ? view.record(nodeNames[best]!)?.state : undefined;
    return state && placer.place(state) ? { scores, best: placer.placements() } : { scores };
  }
  const pin = pinProblem(storage);
  let bestIndex = -1;
  let bestScore = -1;
  const records = view.recordsFor(nodeNames);
  for (let i = 0; i < nodeNames.length; i++) {
    const name = nodeNames[i]!;
    let s = 0;
    const rec = pin && pin.node !== name ? undefined : records[i];
    if (rec?.state && agentTrusted(rec.leaseExpiry, view.leaseMode, now)) {
      const a = placer.assess(rec.state);
      if (a.fits && a.score > bestScore) {
        bestScore = a.score;
        bestIndex = i;
      }
      s = a.score;
    }
    scores[i] = s;
  }
  if (bestIndex < 0) return { scores };
  const rec = view.record(nodeNames[bestIndex]!)!;
  placer.place(rec.state!);
  return { scores, best: placer.placements() };
}

/** The prioritize reply as objects (`[{Host, Score}]`). */
export function hostPriorities(nodeNames: readonly string[], scores: Uint8Array): HostPriority[] {
  return nodeNames.map((Host, i) => ({ Host, Score: scores[i]! }));
}

export const podKey = (pod: WirePod): string => `${pod.metadata.namespace || "default"}/${pod.metadata.name}`;
export const podUid = (pod: WirePod): string => pod.metadata.uid || podKey(pod);

/**
 * Holds the pod's volumes on the node it will most likely land on until the selected-node annotation,
 * the reserve call or a PV replaces the reservation, or the TTL ends it. Returns how many were held.
 */
export function holdReservations(
  ledger: Ledger,
  pod: WirePod,
  storage: PodStorage,
  placements: readonly Allocation[],
  ttlMs: number,
  now: number,
): number {
  let held = 0;
  const uid = podUid(pod);
  const name = podKey(pod);
  storage.requests.forEach((r, i) => {
    const a = placements[i];
    // Only a class that names its VG fixes the spot; otherwise the node's loose claims may be re-packed.
    const loose = r.kind !== "lvm" || r.vgName === undefined;
    if (a && ledger.reserve(r.claim, { ...a, loose, podUid: uid, pod: name, expiresAt: now + ttlMs })) held++;
  });
  return held;
}
