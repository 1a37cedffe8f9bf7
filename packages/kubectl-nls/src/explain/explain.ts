import type { V1Pod } from "@kubernetes/client-node";
import { leaseNameForNode, PROVISIONER } from "@nls/api";
import {
  claimKey,
  filterNodes,
  ownCredit,
  Placer,
  podStorage,
  scoreNodes,
  type Allocation,
  type ClusterStore,
  type PodStorage,
  type SourceKind,
} from "@nls/extender";
import {
  agentStatus,
  leasesByName,
  wirePod,
  type AgentStatus,
  type ClusterState,
  type DecisionSettings,
} from "../cluster/state.js";

/**
 * "Why is this pod pending": what the pod asks for, and for every node the extender's own filter answer —
 * the short reason kube-scheduler shows and the node's numbers — computed by `podStorage`, `filterNodes`,
 * `scoreNodes` and the `Placer` over a store filled like the extender's. Pure: a store and a pod in.
 */

/** What the extender makes of one PVC of the pod. */
export type ClaimRole =
  | "new" // unbound, of an nls class: to be placed
  | "bound" // bound to a local PV: pins the pod to its node
  | "selected" // already has a selected node: pins the pod there (its space is in the ledger)
  | "invalid" // fails every node (bad size, unknown volume type)
  | "ignored"; // not nls' (missing PVC, other provisioner, missing class): never blocks the pod

export interface ClaimAsk {
  claim: string;
  storageClass?: string;
  bytes?: number;
  role: ClaimRole;
  /** For new volumes: `LVM` with a VG (or any), or a whole device or mount point with a media type (or any). */
  wants?: { volumeType: "LVM"; vg?: string } | { volumeType: "Device" | "MountPoint"; mediaType?: string };
  note?: string;
}

export interface Placement {
  claim: string;
  bytes: number;
  vg?: string;
  device?: string;
}

export interface NodeVerdict {
  node: string;
  fits: boolean;
  /** What kube-scheduler shows for this node (empty when it fits). */
  reason: string;
  /** The node's numbers (empty when it fits). */
  detail: string;
  /**
   * When it fits: where each new volume would go, the prioritize score (10 on the extender's choice, 0
   * elsewhere), and use after placing the pod.
   */
  placements?: Placement[];
  score?: number;
  after?: { used: number; capacity: number };
}

export interface Explanation {
  pod: string;
  phase: string;
  /** The node the pod is bound to, if any (then nothing is pending). */
  boundTo?: string;
  claims: ClaimAsk[];
  /** True when the pod asks for nothing the extender decides: every node passes. */
  passThrough: boolean;
  nodes: NodeVerdict[];
  /** Failing nodes by short reason, most first: the extender's part of kube-scheduler's event. */
  reasons: Array<{ reason: string; nodes: number }>;
  /**
   * The node the extender holds the pod's volumes on (its strategy's favourite, then first by name), when
   * any fits: with `--placement=decide` the only node it lets kube-scheduler take.
   */
  choice?: string;
}

function wantsOf(storage: PodStorage, key: string): ClaimAsk["wants"] {
  const r = storage.requests.find((q) => q.claim === key);
  if (!r) return undefined;
  if (r.kind === "lvm") return { volumeType: "LVM", ...(r.vgName ? { vg: r.vgName } : {}) };
  return {
    volumeType: r.kind === "device" ? "Device" : "MountPoint",
    ...(r.mediaType ? { mediaType: r.mediaType } : {}),
  };
}

/** The PVC names of a pod's volumes: `persistentVolumeClaim`, and generic ephemeral volumes (`<pod>-<volume>`). */
function claimNames(pod: V1Pod): string[] {
  const names: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    const name = v.persistentVolumeClaim?.claimName ?? (v.ephemeral ? `${pod.metadata?.name}-${v.name}` : undefined);
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

function claimAsks(pod: V1Pod, storage: PodStorage, store: ClusterStore): ClaimAsk[] {
  const namespace = pod.metadata?.namespace ?? "default";
  return claimNames(pod).map((name): ClaimAsk => {
    const key = claimKey(namespace, name);
    const pvc = store.pvc(namespace, name);
    if (!pvc)
      return {
        claim: key,
        role: "ignored",
        note: "PVC not found (the extender ignores it; kube-scheduler waits for it)",
      };
    const storageClass = pvc.spec?.storageClassName;
    const base = { claim: key, ...(storageClass ? { storageClass } : {}) };
    const invalid = storage.invalid.find((line) => line.startsWith(`pvc ${key}:`));
    if (invalid) return { ...base, role: "invalid", note: invalid };
    const request = storage.requests.find((r) => r.claim === key);
    if (request) return { ...base, role: "new", bytes: request.bytes, wants: wantsOf(storage, key) };
    if (storage.claims.includes(key)) {
      const pin = [...storage.pins.values()].find((why) => why.includes(`pvc ${key} `));
      return { ...base, role: pvc.spec?.volumeName ? "bound" : "selected", ...(pin ? { note: pin } : {}) };
    }
    const why = !storageClass
      ? "no StorageClass"
      : store.localClass(storageClass)
        ? `bound to ${pvc.spec?.volumeName}, which is not a local volume the extender knows`
        : `StorageClass ${storageClass} is not ${PROVISIONER}'s or does not exist`;
    return { ...base, role: "ignored", note: `${why}: not nls', never blocks the pod` };
  });
}

/** Where the pod's new volumes would go on a node, and the use there after placing them. */
function placeOn(
  storage: PodStorage,
  store: ClusterStore,
  settings: DecisionSettings,
  node: string,
): Pick<NodeVerdict, "placements" | "after"> {
  const state = store.record(node)?.state;
  const placer = new Placer(storage.requests, settings.strategy, ownCredit(storage, store.ledger));
  if (!state || storage.requests.length === 0 || !placer.place(state)) return {};
  const placements = placer.placements().map((a: Allocation, i) => ({
    claim: storage.requests[i]!.claim,
    bytes: a.bytes,
    ...(a.vg ? { vg: a.vg } : {}),
    ...(a.device ? { device: a.device } : {}),
  }));
  return { placements, after: placer.utilisationAfter() };
}

/** Node names kube-scheduler would send: every Node (a file without Nodes: every NodeLocalStorage). */
export function candidateNodes(state: ClusterState): string[] {
  const nodes = state.objects.nodes.map((n) => n.metadata!.name!);
  return (nodes.length ? nodes : state.objects.nls.map((n) => n.metadata.name!)).sort();
}

export function explain(
  pod: V1Pod,
  store: ClusterStore,
  nodeNames: readonly string[],
  settings: DecisionSettings,
  now: number,
): Explanation {
  const wire = wirePod(pod);
  const storage = podStorage(wire, store);
  const pending = !pod.spec?.nodeName;
  const base: Explanation = {
    pod: `${wire.metadata.namespace}/${wire.metadata.name}`,
    phase: pod.status?.phase ?? "Unknown",
    ...(pending ? {} : { boundTo: pod.spec!.nodeName! }),
    claims: claimAsks(pod, storage, store),
    passThrough: storage.requests.length === 0 && storage.pins.size === 0 && storage.invalid.length === 0,
    nodes: [],
    reasons: [],
  };
  if (!pending) return base;
  const filtered = filterNodes(storage, nodeNames, store, settings.strategy, now);
  const scored = scoreNodes(storage, filtered.passing, store, settings.strategy, now);
  const scoreOf = new Map(filtered.passing.map((n, i) => [n, scored.scores[i]!]));
  const needsPlace = storage.requests.length > 0;
  const nodes = nodeNames.map((node): NodeVerdict => {
    const reason = filtered.unresolvable[node];
    if (reason !== undefined) return { node, fits: false, reason, detail: filtered.details[node] ?? reason };
    return {
      node,
      fits: true,
      reason: "",
      detail: "",
      ...(needsPlace ? { score: scoreOf.get(node) ?? 0, ...placeOn(storage, store, settings, node) } : {}),
    };
  });
  const counts = new Map<string, number>();
  for (const n of nodes) if (!n.fits) counts.set(n.reason, (counts.get(n.reason) ?? 0) + 1);
  const reasons = [...counts]
    .map(([reason, count]) => ({ reason, nodes: count }))
    .sort((a, b) => b.nodes - a.nodes || (a.reason < b.reason ? -1 : 1));
  const choice = needsPlace ? filtered.choice?.node : undefined;
  return { ...base, nodes, reasons, ...(choice ? { choice } : {}) };
}

/** One claim holding space on the node, by the ledger source that counts for it. */
export interface Holder {
  claim: string;
  source: SourceKind;
  bytes: number;
}

/** `--node N`: the whole arithmetic of one node — its VGs, who holds what, its devices, its agent — and the verdict. */
export interface NodeArithmetic {
  node: string;
  agent: AgentStatus & { lease: string };
  /** False when the node has no NodeLocalStorage (then it offers nothing). */
  nls: boolean;
  vgs: Array<{ name: string; allocatable: number; committed: number; free: number; holders: Holder[] }>;
  unusableVgs: Array<{ name: string; why: string }>;
  /** Bytes committed on the node whose VG is not decided yet. */
  undecided: number;
  devices: Array<{ name: string; mediaType: string; total: number; heldBy?: string }>;
  verdict?: NodeVerdict;
}

export function nodeArithmetic(
  node: string,
  state: ClusterState,
  store: ClusterStore,
  settings: DecisionSettings,
  now: number,
  verdict: NodeVerdict | undefined,
): NodeArithmetic {
  const view = store.node(node);
  const snapshot = store.ledger.snapshot(node);
  const usage = snapshot.nodes[node];
  const holders = (vg: string): Holder[] =>
    Object.entries(snapshot.claims)
      .filter(([, c]) => c.vg === vg)
      .map(([claim, c]) => ({ claim, source: c.source, bytes: c.bytes }))
      .sort((a, b) => b.bytes - a.bytes || (a.claim < b.claim ? -1 : 1));
  return {
    node,
    agent: {
      ...agentStatus(node, leasesByName(state, settings), settings, now),
      lease: `${settings.leaseNamespace}/${leaseNameForNode(node)}`,
    },
    nls: !!view,
    vgs: (view?.vgs ?? []).map((vg) => {
      const committed = usage?.vgs[vg.name] ?? 0;
      return {
        name: vg.name,
        allocatable: vg.allocatable,
        committed,
        free: vg.allocatable - committed,
        holders: holders(vg.name),
      };
    }),
    unusableVgs: [...(view?.unusableVgs ?? [])].map(([name, why]) => ({ name, why })),
    undecided: usage?.unplaced ?? 0,
    devices: (view?.devices ?? []).map((d) => ({
      name: d.name,
      mediaType: d.mediaType,
      total: d.total,
      ...(usage?.devices[d.name] ? { heldBy: usage.devices[d.name] } : {}),
    })),
    ...(verdict ? { verdict } : {}),
  };
}
