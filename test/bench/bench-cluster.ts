/**
 * The benches' control plane, and what they put in it in place of real nodes (no kubelet, no agent
 * runs): Ready Node objects, each with its NodeLocalStorage as an agent reports it and a fresh agent
 * Lease; and the wait until the nls extender has them all.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_LEASE_NAMESPACE } from "@nls/api";
import { ADMIN_TOKEN, crdsEstablished, startCluster, waitFor, type Cluster } from "../e2e/cluster.js";
import { kubeApi, type KubeApi } from "../e2e/kube-api.js";
import { agentLease, nlsStatus } from "../e2e/node-storage.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A control plane with deploy/base applied (deploy/ less its admission webhook, whose marking the
 * scheduler bench's pods carry from their manifests) and the nls CRDs served; an admin client.
 */
export async function startBenchCluster(): Promise<{ cluster: Cluster; api: KubeApi }> {
  const cluster = await startCluster();
  try {
    await cluster.kubectlOk(["apply", "-k", join(root, "deploy/base")]);
    await crdsEstablished(cluster);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { cluster, api: kubeApi(cluster.server, ADMIN_TOKEN) };
}

/** A Ready node with its NodeLocalStorage (the VGs given) and a fresh agent Lease, in few round trips. */
export async function addBenchNode(
  api: KubeApi,
  name: string,
  vgs: Array<{ name: string; bytes: number }>,
): Promise<void> {
  await api.post("/api/v1/nodes", { metadata: { name, labels: { "kubernetes.io/hostname": name } } });
  // The TaintNodesByCondition admission plugin taints a new node not-ready; with no kubelet, lift it.
  await api.patch(`/api/v1/nodes/${name}`, { spec: { taints: null } });
  const now = new Date().toISOString();
  await api.patch(`/api/v1/nodes/${name}/status`, {
    status: {
      capacity: { cpu: "64", memory: "256Gi", pods: "250" },
      allocatable: { cpu: "64", memory: "256Gi", pods: "250" },
      conditions: [
        { type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: now, lastTransitionTime: now },
      ],
    },
  });
  await api.post("/apis/csi.aliyun.com/v1alpha1/nodelocalstorages", {
    apiVersion: "csi.aliyun.com/v1alpha1",
    kind: "NodeLocalStorage",
    metadata: { name },
    spec: { nodeName: name },
  });
  await api.patch(`/apis/csi.aliyun.com/v1alpha1/nodelocalstorages/${name}/status`, { status: nlsStatus({ vgs }) });
  await api.post(`/apis/coordination.k8s.io/v1/namespaces/${DEFAULT_LEASE_NAMESPACE}/leases`, agentLease(name));
}

/** Until the nls extender's cache (its debug view) holds every node in `names` with its NodeLocalStorage. */
export async function nlsExtenderSees(debugPort: number, names: readonly string[]): Promise<void> {
  await waitFor(
    `the nls extender to see all ${names.length} nodes`,
    async () => {
      const cache = (await (await fetch(`http://127.0.0.1:${debugPort}/cache`)).json()) as {
        nodes: Record<string, { nls: boolean }>;
      };
      return names.every((n) => cache.nodes[n]?.nls) ? true : undefined;
    },
    300_000,
  );
}
