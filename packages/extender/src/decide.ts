import { MAX_EXTENDER_SCORE, type FailedNodesMap, type HostPriority, type WirePod } from "@nls/api";
import type { Allocation, Ledger, NodeUsage, Tentative } from "./ledger.js";
import { agentTrusted, type LeaseMode } from "./lease.js";
import type { NodeView } from "./node-view.js";
import { Placer, type NodeState } from "./placement.js";
import type { Strategy } from "./scoring.js";
import { AGENT_REASON, capacityReasons, NO_NLS_REASON } from "./reasons.js";
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

/**
 * How the extender makes its ledger agree with kube-scheduler's choice for a pod with new local volumes
 * (`--placement`):
 *   decide  filter answers with the single node it holds the volumes on; kube-scheduler has no other
 *           choice (default: the ledger is right by construction; other plugins' scores do not count)
 *   score   filter answers with every node that fits; prioritize holds the volumes on its choice and
 *           scores it 10, every other node 0 (other plugins can still outvote it by more than
 *           weight × 100 points, and then the hold is on the wrong node until selected-node shows)
 */
export const PLACEMENTS = ["decide", "score"] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** Where a pod's new volumes would be held: the node the strategy likes best, and their spots there. */
export interface Choice {
  node: string;
  placements: Allocation[];
}

export interface FilterOutcome {
  passing: string[];
  /** Nodes preemption could help with: always empty, VG space is not freed by evicting pods. */
  failed: FailedNodesMap;
  /** What kube-scheduler shows per failing node: one short reason per failure class (reasons.ts). */
  unresolvable: FailedNodesMap;
  /** Why each failing node fails, with its numbers: for the log, `/cache` and `kubectl nls explain`. */
  details: FailedNodesMap;
  failures: Record<FailureKind, number>;
  /** The passing node the strategy likes best and where the pod's new volumes go there. */
  choice?: Choice;
  /**
   * The preference of each passing node (same order as `passing`), computed while its placement is at
   * hand: kube-scheduler asks to prioritize exactly these nodes next, for the same pod.
   */
  passingPreferences: ArrayLike<number>;
}

/** Index of the best node: highest preference, then the smallest name (a deterministic tie-break). */
function bestIndex(
  names: readonly string[],
  preferences: ArrayLike<number>,
  eligible?: (i: number) => boolean,
): number {
  let best = -1;
  for (let i = 0; i < names.length; i++) {
    if (eligible && !eligible(i)) continue;
    const p = preferences[i]!;
    if (best < 0 || p > preferences[best]! || (p === preferences[best]! && names[i]! < names[best]!)) best = i;
  }
  return best;
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
    passingPreferences: [],
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
  const needsNode = storage.requests.length > 0;
  if (!needsNode) {
    for (const name of nodeNames) {
      if (pin && pin.node !== name) fail(name, "pinned", pin.reason);
      else out.passing.push(name);
    }
    return out;
  }
  const placer = new Placer(storage.requests, strategy, ownCredit(storage, view.ledger));
  const shortReason = capacityReasons(storage.requests);
  const records = view.recordsFor(nodeNames);
  // Which nodes fit and how much the strategy likes them, in two arrays sized once: at 5,000 nodes,
  // growing a list node by node allocated several times its final size on every request.
  const fitting = new Int32Array(nodeNames.length);
  const preferences = new Float64Array(nodeNames.length);
  let count = 0;
  let best = -1;
  for (let i = 0; i < nodeNames.length; i++) {
    const name = nodeNames[i]!;
    if (pin && pin.node !== name) {
      fail(name, "pinned", pin.reason);
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
    if (!a.fits) {
      fail(name, "capacity", a.reason, shortReason(state.view));
      continue;
    }
    // The best node as `bestIndex` picks it: highest preference, then the smallest name.
    const p = a.preference;
    if (best < 0 || p > preferences[best]! || (p === preferences[best]! && name < nodeNames[fitting[best]!]!)) {
      best = count;
    }
    fitting[count] = i;
    preferences[count++] = p;
  }
  out.passing = new Array<string>(count);
  for (let k = 0; k < count; k++) out.passing[k] = nodeNames[fitting[k]!]!;
  out.passingPreferences = preferences.subarray(0, count);
  if (best >= 0) {
    const node = out.passing[best]!;
    if (placer.place(view.record(node)!.state!)) out.choice = { node, placements: placer.placements() };
  }
  return out;
}

/**
 * `--placement=decide`: only the chosen node passes. The other nodes that fit are left out of the
 * answer without a reason: kube-scheduler reads the failure maps only when no node is left (to explain
 * a FailedScheduling and to pick preemption candidates), and here one always is. Naming them would put
 * one entry per node into every answer (~400 KiB at 5,000 nodes) that nothing reads. They are not
 * counted as failures: they could take the pod.
 */
export function keepChoiceOnly(out: FilterOutcome): void {
  if (!out.choice || out.passing.length <= 1) return;
  out.passing = [out.choice.node];
  out.passingPreferences = [];
}

export interface ScoreOutcome {
  /** Score per node, in the order of the node list (a typed array: no object per node). */
  scores: Uint8Array;
  /** The node the pod's volumes are held on and their spots there. */
  choice?: Choice;
}

/**
 * Prioritize: the node the strategy likes best (as filter would choose it) scores 10, every other node
 * 0, so kube-scheduler goes where the volumes are held unless other plugins outvote it by more than
 * `weight × 100` points. Nodes that cannot take the pod, unknown nodes and pods without new local
 * volumes score 0 everywhere; this never fails for a node. `known` are filter's preferences for exactly
 * these nodes, against the same ledger.
 */
export function scoreNodes(
  storage: PodStorage,
  nodeNames: readonly string[],
  view: ClusterView,
  strategy: Strategy,
  now: number,
  known?: ArrayLike<number>,
): ScoreOutcome {
  const scores = new Uint8Array(nodeNames.length);
  if (storage.requests.length === 0 || storage.invalid.length > 0 || storage.unseen.length > 0) return { scores };
  const placer = new Placer(storage.requests, strategy, ownCredit(storage, view.ledger));
  let best: number;
  if (known && known.length === nodeNames.length) {
    best = bestIndex(nodeNames, known);
  } else {
    const pin = pinProblem(storage);
    const preferences = new Float64Array(nodeNames.length);
    const fits = new Uint8Array(nodeNames.length);
    const records = view.recordsFor(nodeNames);
    for (let i = 0; i < nodeNames.length; i++) {
      const rec = pin && pin.node !== nodeNames[i] ? undefined : records[i];
      if (!rec?.state || !agentTrusted(rec.leaseExpiry, view.leaseMode, now)) continue;
      const a = placer.assess(rec.state);
      fits[i] = a.fits ? 1 : 0;
      preferences[i] = a.preference;
    }
    best = bestIndex(nodeNames, preferences, (i) => fits[i] === 1);
  }
  const state = best >= 0 ? view.record(nodeNames[best]!)?.state : undefined;
  if (!state || !placer.place(state)) return { scores };
  scores[best] = MAX_EXTENDER_SCORE;
  return { scores, choice: { node: nodeNames[best]!, placements: placer.placements() } };
}

/**
 * The prioritize reply (`[{Host, Score}]`): the nodes that score above 0. kube-scheduler adds each
 * listed node's score to that node and nothing to a node left out, so leaving out the zeros answers the
 * same — one entry instead of one per node (~140 KiB at 5,000 nodes) to encode, send and decode.
 */
export function hostPriorities(nodeNames: readonly string[], scores: Uint8Array): HostPriority[] {
  const out: HostPriority[] = [];
  for (let i = 0; i < nodeNames.length; i++) if (scores[i]! > 0) out.push({ Host: nodeNames[i]!, Score: scores[i]! });
  return out;
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
    if (!a) return;
    // Spelled out rather than spread: one object shape for every reservation, whatever fields `a` has.
    const t: Tentative = {
      node: a.node,
      vg: a.vg,
      device: a.device,
      mountPoint: a.mountPoint,
      bytes: a.bytes,
      loose,
      excess: a.excess,
      podUid: uid,
      pod: name,
      expiresAt: now + ttlMs,
    };
    if (ledger.reserve(r.claim, t)) held++;
  });
  return held;
}
