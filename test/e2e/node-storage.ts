/**
 * What a node's agent would report, written directly (no agent runs): its NodeLocalStorage with VGs,
 * devices and mount points, and the agent's Lease, on a Ready node (nodes.ts).
 */
import { DEFAULT_LEASE_NAMESPACE } from "@nls/api";
import type { Cluster } from "./cluster.js";
import { addReadyNode, replaceStatus } from "./nodes.js";

/** A node's local storage; everything listed is selected, unless a device says otherwise. */
export interface NodeStorage {
  vgs?: Array<{ name: string; bytes: number }>;
  devices?: Array<{ name: string; bytes: number; mediaType: "ssd" | "hdd"; selected?: boolean }>;
  mountPoints?: Array<{ path: string; bytes: number; device: string }>;
}

/** The NodeLocalStorage status an agent would write for `storage`. */
export function nlsStatus(storage: NodeStorage): object {
  const now = new Date().toISOString();
  return {
    nodeStorageInfo: {
      volumeGroups: (storage.vgs ?? []).map((vg) => ({
        name: vg.name,
        physicalVolumes: ["/dev/vdb"],
        logicalVolumes: [],
        total: vg.bytes,
        available: vg.bytes,
        allocatable: vg.bytes,
        condition: "DiskReady",
      })),
      deviceInfo: (storage.devices ?? []).map((d) => ({
        name: d.name,
        mediaType: d.mediaType,
        total: d.bytes,
        readOnly: false,
        condition: "DiskReady",
      })),
      mountPoints: (storage.mountPoints ?? []).map((mp) => ({
        name: mp.path,
        total: mp.bytes,
        available: mp.bytes,
        fsType: "ext4",
        isBind: false,
        options: ["rw", "relatime"],
        device: mp.device,
        readOnly: false,
        condition: "DiskReady",
      })),
      phase: "Running",
      state: { type: "DiskReady", status: "True", lastHeartbeatTime: now },
    },
    filteredStorageInfo: {
      volumeGroups: (storage.vgs ?? []).map((vg) => vg.name),
      devices: (storage.devices ?? []).filter((d) => d.selected !== false).map((d) => d.name),
      mountPoints: (storage.mountPoints ?? []).map((mp) => mp.path),
      updateStatusInfo: { updateStatus: "accepted", lastUpdateTime: now },
    },
  };
}

/** Rewrites a node's NodeLocalStorage status, as its agent would after a scan. */
export const setNodeStorage = (cluster: Cluster, name: string, storage: NodeStorage) =>
  replaceStatus(cluster, ["nls", name], nlsStatus(storage));

/** The agent's Lease as a test wants it: where it lives and how long ago it was renewed (duration 1h). */
export interface AgentLease {
  namespace?: string;
  renewedSecondsAgo?: number;
}

/**
 * A Ready node (with extra `labels`) with its NodeLocalStorage and the agent's Lease (fresh, in
 * nls-node-lease, unless `lease` says otherwise).
 */
export async function addStorageNode(
  cluster: Cluster,
  name: string,
  storage: NodeStorage,
  lease: AgentLease = {},
  labels: Record<string, string> = {},
): Promise<void> {
  await addReadyNode(cluster, name, labels);
  const apply = (obj: object) => cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));
  await apply({
    apiVersion: "csi.aliyun.com/v1alpha1",
    kind: "NodeLocalStorage",
    metadata: { name },
    spec: { nodeName: name },
  });
  await setNodeStorage(cluster, name, storage);
  await apply(agentLease(name, lease));
}

/** The agent's Lease object for node `name` (duration 1h), renewed as `lease` says. */
export function agentLease(name: string, lease: AgentLease = {}): object {
  const renewed = new Date(Date.now() - (lease.renewedSecondsAgo ?? 0) * 1000);
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: `nls-agent-${name}`, namespace: lease.namespace ?? DEFAULT_LEASE_NAMESPACE },
    spec: {
      holderIdentity: name,
      leaseDurationSeconds: 3600,
      renewTime: renewed.toISOString().replace("Z", "000Z"), // MicroTime: six fractional digits
    },
  };
}
