/**
 * What the agents would report, written directly (no agent runs): a Ready node (nodes.ts) whose
 * NodeLocalStorage has one VG `pool-0`, with a fresh agent Lease; and the StorageClass, PVCs and pods
 * that ask for local volumes.
 */
import type { Cluster } from "./cluster.js";
import { addReadyNode, replaceStatus } from "./nodes.js";

const applyTo = (cluster: Cluster, obj: unknown) => cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));

/** A Ready node whose NLS reports VG pool-0 with `vgAllocatable` bytes, and its agent's Lease. */
export async function addStorageNode(cluster: Cluster, name: string, vgAllocatable: number): Promise<void> {
  await addReadyNode(cluster, name);
  await applyTo(cluster, {
    apiVersion: "csi.aliyun.com/v1alpha1",
    kind: "NodeLocalStorage",
    metadata: { name },
    spec: { nodeName: name, listConfig: { vgs: { include: ["pool-[0-9]+"] } } },
  });
  const now = new Date().toISOString();
  await replaceStatus(cluster, ["nls", name], {
    nodeStorageInfo: {
      volumeGroups: [
        {
          name: "pool-0",
          physicalVolumes: ["/dev/vdb"],
          logicalVolumes: [],
          total: vgAllocatable,
          available: vgAllocatable,
          allocatable: vgAllocatable,
          condition: "DiskReady",
        },
      ],
      phase: "Running",
      state: { type: "DiskReady", status: "True", lastHeartbeatTime: now },
    },
    filteredStorageInfo: {
      volumeGroups: ["pool-0"],
      devices: [],
      mountPoints: [],
      updateStatusInfo: { updateStatus: "accepted", lastUpdateTime: now },
    },
  });
  await applyTo(cluster, {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: `nls-agent-${name}`, namespace: "nls-node-lease" },
    spec: {
      holderIdentity: name,
      leaseDurationSeconds: 3600,
      renewTime: new Date().toISOString().replace("Z", "000Z"), // MicroTime: six fractional digits
    },
  });
}

/** A StorageClass of open-local's provisioner for LVM volumes, bound when the pod is scheduled. */
export const localStorageClass = (name: string) => ({
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: { name },
  provisioner: "local.csi.aliyun.com",
  parameters: { volumeType: "LVM" },
  volumeBindingMode: "WaitForFirstConsumer",
});

export const localPvc = (namespace: string, name: string, size: string, storageClassName: string) => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace },
  spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: size } } },
});

export const localPod = (namespace: string, name: string, claims: string[]) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace },
  spec: {
    containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }],
    volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
  },
});
