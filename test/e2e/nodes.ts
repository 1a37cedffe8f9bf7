/** Node objects kube-scheduler will place pods on, without a kubelet: readiness is written by hand. */
import type { Cluster } from "./cluster.js";

/** Replaces the status of the object `get` names (`["node", "a"]`) with `status`. */
export async function replaceStatus(cluster: Cluster, get: string[], status: unknown): Promise<void> {
  const obj = JSON.parse(await cluster.kubectlOk(["get", ...get, "-o", "json"]));
  await cluster.kubectlOk(["replace", "--subresource=status", "-f", "-"], JSON.stringify({ ...obj, status }));
}

/** Creates Node `name` (hostname label set), lifts the not-ready taint and marks it Ready. */
export async function addReadyNode(cluster: Cluster, name: string, labels: Record<string, string> = {}): Promise<void> {
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    }),
  );
  // The TaintNodesByCondition admission plugin taints new nodes not-ready; with no kubelet, lift it by hand.
  await cluster.kubectlOk(["taint", "nodes", name, "node.kubernetes.io/not-ready:NoSchedule-"]);
  const now = new Date().toISOString();
  await replaceStatus(cluster, ["node", name], {
    capacity: { cpu: "8", memory: "16Gi", pods: "110" },
    allocatable: { cpu: "8", memory: "16Gi", pods: "110" },
    conditions: [
      { type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: now, lastTransitionTime: now },
    ],
  });
}
