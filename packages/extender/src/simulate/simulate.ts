import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { ANNOTATION_SELECTED_NODE, type WirePod } from "@nls/api";
import { ClusterStore, type StoreOptions } from "../cache/store.js";
import { filterNodes } from "../decide.js";
import type { NodeUsage } from "../ledger.js";
import type { Strategy } from "../scoring.js";
import { claimKey, localClassOf, podStorage } from "../request.js";
import type { ClusterObjects } from "./cluster-objects.js";
import { SIMULATION_NAMESPACE, type PodRequest } from "./pod-burst.js";

/**
 * "Where would these pods go?" answered by the extender's own decision code, the way a real cluster
 * runs it: the objects fill a ClusterStore as the informers would, then for each pod in turn filter
 * chooses the node (`--placement=decide`, the default: the one node filter answers with is where
 * kube-scheduler goes) and the choice is recorded on the pod's PVCs as the selected-node annotation,
 * which the store turns into the ledger entry the next pod sees.
 * Every agent counts as healthy (Leases are not read). No I/O: objects in, placements and usage out.
 */

export interface VolumeOutcome {
  claim: string;
  bytes: number;
  storageClass: string;
  /** Where it went (when the pod was placed). */
  vg?: string;
  device?: string;
}

export interface Refusal {
  reason: string;
  /** The nodes that gave this reason, sorted. */
  nodes: string[];
}

export interface PodOutcome {
  pod: string;
  volumes: VolumeOutcome[];
  /** The node chosen, or undefined when the pod fits nowhere. */
  node?: string;
  /** Why each node refused the pod, with its numbers (grouped by reason), when it fits nowhere. */
  refusals: Refusal[];
}

/** One VG or device of one node: its capacity, and what is committed before and after the burst. */
export interface CapacityRow {
  node: string;
  kind: "vg" | "device";
  name: string;
  capacity: number;
  before: number;
  after: number;
}

export interface Simulation {
  strategy: Strategy;
  /** Every node considered: those with a Node object or a NodeLocalStorage, sorted. */
  nodes: string[];
  pods: PodOutcome[];
  capacity: CapacityRow[];
  placed: number;
}

/** Reservation lifetime and clock of the simulation: time does not pass, so nothing expires. */
const RESERVATION_TTL_MS = 60_000;
const NOW = 0;

/** A pod request names a class the cluster lacks, or one nls does not provision: the input is wrong. */
export class SimulationInputError extends Error {}

function validate(objects: ClusterObjects, pods: readonly PodRequest[]): void {
  const classes = new Map(objects.storageClasses.map((sc) => [sc.metadata!.name!, sc]));
  for (const pod of pods) {
    for (const v of pod.volumes) {
      const sc = classes.get(v.storageClass);
      if (!sc) throw new SimulationInputError(`${pod.name}: StorageClass ${v.storageClass} is not in the cluster`);
      if (!localClassOf(sc)) {
        throw new SimulationInputError(
          `${pod.name}: StorageClass ${v.storageClass} belongs to provisioner ${sc.provisioner}, not to nls`,
        );
      }
    }
  }
  const taken = objects.pvcs.find((pvc) => pvc.metadata?.namespace === SIMULATION_NAMESPACE);
  if (taken) {
    throw new SimulationInputError(
      `the input already has PVC ${SIMULATION_NAMESPACE}/${taken.metadata?.name}; the simulation creates its own there`,
    );
  }
}

/**
 * A ClusterStore filled from plain objects as the informers would fill it, so its node views and ledger
 * are the ones the extender builds from the same objects (Leases are the caller's: `applyLease`).
 */
export function storeFromObjects(objects: ClusterObjects, options: Partial<StoreOptions> = {}): ClusterStore {
  const store = new ClusterStore(options);
  for (const sc of objects.storageClasses) store.applyStorageClass(sc);
  for (const nls of objects.nls) store.applyNls(nls);
  for (const pv of objects.pvs) store.applyPv(pv);
  for (const pvc of objects.pvcs) store.applyPvc(pvc);
  return store;
}

function capacityRows(store: ClusterStore, nodes: readonly string[]): CapacityRow[] {
  const rows: CapacityRow[] = [];
  for (const node of nodes) {
    const view = store.node(node);
    if (!view) continue;
    const usage: NodeUsage | undefined = store.ledger.usage(node);
    for (const vg of view.vgs) {
      const used = usage?.vg.get(vg.name) ?? 0;
      rows.push({ node, kind: "vg", name: vg.name, capacity: vg.allocatable, before: used, after: used });
    }
    for (const d of view.devices) {
      const used = usage?.devices.has(d.name) ? d.total : 0;
      rows.push({ node, kind: "device", name: d.name, capacity: d.total, before: used, after: used });
    }
  }
  return rows;
}

const pvcOf = (pod: string, index: number, bytes: number, storageClass: string): V1PersistentVolumeClaim => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { namespace: SIMULATION_NAMESPACE, name: `${pod}-vol-${index}`, uid: `simulated-${pod}-vol-${index}` },
  spec: {
    accessModes: ["ReadWriteOnce"],
    storageClassName: storageClass,
    resources: { requests: { storage: String(bytes) } },
  },
  status: { phase: "Pending" },
});

function groupRefusals(unresolvable: Record<string, string>): Refusal[] {
  const byReason = new Map<string, string[]>();
  for (const [node, reason] of Object.entries(unresolvable)) {
    const nodes = byReason.get(reason) ?? [];
    nodes.push(node);
    byReason.set(reason, nodes);
  }
  return [...byReason]
    .map(([reason, nodes]) => ({ reason, nodes: nodes.sort() }))
    .sort((a, b) => (a.nodes[0]! < b.nodes[0]! ? -1 : 1));
}

/** Places one pod the way kube-scheduler and the extender would, and records the outcome in the store. */
function schedule(store: ClusterStore, request: PodRequest, nodes: readonly string[], strategy: Strategy): PodOutcome {
  const pvcs = request.volumes.map((v, i) => pvcOf(request.name, i, v.bytes, v.storageClass));
  for (const pvc of pvcs) store.applyPvc(pvc);
  const pod: WirePod = {
    metadata: { namespace: SIMULATION_NAMESPACE, name: request.name, uid: `simulated-${request.name}` },
    spec: {
      volumes: pvcs.map((pvc, i) => ({ name: `vol-${i}`, persistentVolumeClaim: { claimName: pvc.metadata!.name! } })),
    },
  };
  const keys = pvcs.map((pvc) => claimKey(SIMULATION_NAMESPACE, pvc.metadata!.name!));
  const volumes = (): VolumeOutcome[] =>
    request.volumes.map((v, i) => {
      const a = store.ledger.effective(keys[i]!)?.allocation;
      return {
        claim: keys[i]!,
        bytes: v.bytes,
        storageClass: v.storageClass,
        ...(a?.vg ? { vg: a.vg } : {}),
        ...(a?.device ? { device: a.device } : {}),
      };
    });

  // Filter, as POST /scheduler/predicates does with --placement=decide (the default): the extender
  // holds the volumes on the node it chooses and answers with that node only.
  const storage = podStorage(pod, store);
  store.expire(NOW);
  const filtered = filterNodes(storage, nodes, store, strategy, NOW);
  if (!filtered.choice) {
    return { pod: request.name, volumes: volumes(), refusals: groupRefusals(filtered.details) };
  }
  store.hold(pod, storage, filtered.choice.placements, RESERVATION_TTL_MS, NOW);
  const node = filtered.choice.node;
  // kube-scheduler's PreBind writes the selected node on each PVC, which replaces the hold.
  for (const pvc of pvcs) {
    store.applyPvc({ ...pvc, metadata: { ...pvc.metadata, annotations: { [ANNOTATION_SELECTED_NODE]: node } } });
  }
  return { pod: request.name, volumes: volumes(), node, refusals: [] };
}

/** Places `pods` in order onto the cluster `objects` describes, with the extender's `strategy`. */
export function simulate(objects: ClusterObjects, pods: readonly PodRequest[], strategy: Strategy): Simulation {
  validate(objects, pods);
  const store = storeFromObjects(objects, { strategy, leaseMode: "optional" });
  const nodes = [
    ...new Set([...objects.nodes.map((n) => n.metadata!.name!), ...objects.nls.map((n) => n.metadata!.name!)]),
  ].sort();
  const capacity = capacityRows(store, nodes);
  const outcomes = pods.map((p) => schedule(store, p, nodes, strategy));
  const after = capacityRows(store, nodes);
  capacity.forEach((row, i) => (row.after = after[i]!.after));
  return { strategy, nodes, pods: outcomes, capacity, placed: outcomes.filter((o) => o.node).length };
}
