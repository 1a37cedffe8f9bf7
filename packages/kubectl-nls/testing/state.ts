import type { V1Lease, V1Node } from "@kubernetes/client-node";
import { DEFAULT_LEASE_NAMESPACE } from "@nls/api";
import type { ClusterObjects } from "@nls/extender";
import type { ClusterState, DecisionSettings } from "../src/cluster/state.js";

/** Test only: a cluster state from lists of objects, every list optional. */
export function stateOf(objects: Partial<Omit<ClusterObjects, "ignored">>, leases: V1Lease[] = []): ClusterState {
  return {
    objects: {
      nodes: objects.nodes ?? [],
      nls: objects.nls ?? [],
      storageClasses: objects.storageClasses ?? [],
      pvs: objects.pvs ?? [],
      pvcs: objects.pvcs ?? [],
      ignored: {},
    },
    leases,
  };
}

export const node = (name: string): V1Node => ({ apiVersion: "v1", kind: "Node", metadata: { name } });

export const SETTINGS: DecisionSettings = {
  strategy: "binpack",
  leaseMode: "required",
  leaseNamespace: DEFAULT_LEASE_NAMESPACE,
};
