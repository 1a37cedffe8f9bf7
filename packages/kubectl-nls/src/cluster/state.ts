import type { V1Lease, V1Pod } from "@kubernetes/client-node";
import { leaseNameForNode, type WirePod } from "@nls/api";
import {
  agentProblem,
  leaseExpiry,
  storeFromObjects,
  type ClusterObjects,
  type ClusterStore,
  type LedgerSnapshot,
  type StoreOptions,
} from "@nls/extender";

/**
 * What `kubectl nls` reads of a cluster: the objects the extender's informers hold (from the API server,
 * or a file of them), the agents' Leases, and the pod asked about.
 */
export interface ClusterState {
  objects: ClusterObjects;
  leases: V1Lease[];
}

/** The extender settings a decision depends on: its strategy and what a missing Lease means, and where Leases live. */
export type DecisionSettings = StoreOptions;

/** The extender's ledger and settings, as its `/cache` route reports them. */
export interface ExtenderView {
  settings?: Partial<DecisionSettings>;
  ledger: LedgerSnapshot;
  /** Where it was read (for messages). */
  from: string;
}

/** A ClusterStore filled with the state, Leases included: the same node views and ledger the extender builds. */
export function storeFor(state: ClusterState, settings: DecisionSettings): ClusterStore {
  const store = storeFromObjects(state.objects, settings);
  for (const lease of state.leases) store.applyLease(lease);
  return store;
}

/**
 * Adds the extender's tentative reservations (held in its memory between filter and the selected-node
 * annotation, so no object shows them) to a store built from the objects.
 */
export function addReservations(store: ClusterStore, ledger: LedgerSnapshot): number {
  let added = 0;
  for (const [key, claim] of Object.entries(ledger.claims)) {
    if (claim.source !== "tentative") continue;
    const { node, vg, device, bytes } = claim;
    if (store.ledger.reserve(key, { node, vg, device, bytes, podUid: "", pod: "", expiresAt: Infinity })) added++;
  }
  return added;
}

export type AgentState = "ok" | "expired" | "no-lease" | "bad-lease";

/** The node's agent as its Lease shows it, and whether the extender trusts it. */
export interface AgentStatus {
  state: AgentState;
  /** Seconds since the Lease was last renewed (absent without a usable Lease). */
  renewedSecondsAgo?: number;
  /** Why the extender does not trust the agent (it fails the node), or undefined when it does. */
  problem?: string;
}

export function agentStatus(
  node: string,
  leases: ReadonlyMap<string, V1Lease>,
  settings: DecisionSettings,
  now: number,
): AgentStatus {
  const lease = leases.get(leaseNameForNode(node));
  const expiry = lease ? (leaseExpiry(lease) ?? Number.NaN) : undefined;
  const problem = agentProblem(expiry, settings.leaseMode, now, `${settings.leaseNamespace}/${leaseNameForNode(node)}`);
  const status: AgentStatus = { state: "ok", ...(problem ? { problem } : {}) };
  if (expiry === undefined) return { ...status, state: "no-lease" };
  if (Number.isNaN(expiry)) return { ...status, state: "bad-lease" };
  const renewed = lease!.spec?.renewTime ?? lease!.spec?.acquireTime;
  const renewedAt = renewed instanceof Date ? renewed.getTime() : Date.parse(String(renewed));
  return {
    ...status,
    state: expiry < now ? "expired" : "ok",
    renewedSecondsAgo: Math.max(0, Math.round((now - renewedAt) / 1000)),
  };
}

/** Leases of the settings' namespace by name. */
export function leasesByName(state: ClusterState, settings: DecisionSettings): Map<string, V1Lease> {
  const out = new Map<string, V1Lease>();
  for (const l of state.leases) {
    const ns = l.metadata?.namespace;
    if (l.metadata?.name && (!ns || ns === settings.leaseNamespace)) out.set(l.metadata.name, l);
  }
  return out;
}

/** A live pod as the extender's wire type reads it (the fields podStorage uses). */
export const wirePod = (pod: V1Pod): WirePod => ({
  metadata: {
    namespace: pod.metadata?.namespace ?? "default",
    name: pod.metadata?.name ?? "",
    uid: pod.metadata?.uid,
  },
  spec: { volumes: (pod.spec?.volumes ?? []) as NonNullable<WirePod["spec"]>["volumes"] },
});
