import type { ClusterObjects } from "@nls/extender";
import { agentStatus, leasesByName, type ClusterState, type DecisionSettings } from "../cluster/state.js";

/**
 * The objects a what-if on the live cluster places pods onto: the extender fails nodes whose agent it
 * does not trust, so their Node and NodeLocalStorage are left out (the simulation itself takes every agent as
 * healthy). Pure: the state in, the objects and the nodes left out (with why) out.
 */
export function simulationObjects(
  state: ClusterState,
  settings: DecisionSettings,
  now: number,
): { objects: ClusterObjects; excluded: Array<{ node: string; why: string }> } {
  const leases = leasesByName(state, settings);
  const excluded: Array<{ node: string; why: string }> = [];
  const nls = state.objects.nls.filter((n) => {
    const problem = agentStatus(n.metadata.name!, leases, settings, now).problem;
    if (problem) excluded.push({ node: n.metadata.name!, why: problem });
    return !problem;
  });
  const out = new Set(excluded.map((e) => e.node));
  const nodes = state.objects.nodes.filter((n) => !out.has(n.metadata?.name ?? ""));
  return { objects: { ...state.objects, nodes, nls }, excluded: excluded.sort((a, b) => (a.node < b.node ? -1 : 1)) };
}
