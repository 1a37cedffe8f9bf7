/**
 * How the test control plane's kube-apiserver reaches the extender's admission webhook through its
 * Service, as in a cluster. The MutatingWebhookConfiguration of deploy/ names the Service
 * `nls-extender-webhook`; kube-apiserver started with `--enable-aggregator-routing=true`
 * (startCluster) resolves a Service to an endpoint of its EndpointSlices instead of dialling its
 * ClusterIP (no kube-proxy runs here). The extender runs as a process of this machine, not in a pod, so
 * no EndpointSlice controller can list it: `publishWebhookEndpoint` writes the slice that controller
 * would write for the extender's pod — this machine's own address (not loopback, which slices refuse)
 * and the extender's webhook port under the Service's port name. The certificate is still verified for
 * the Service's name, `nls-extender-webhook.kube-system.svc`, against the configuration's caBundle.
 */
import { networkInterfaces } from "node:os";
import type { Cluster } from "./cluster.js";

/** This machine's first non-loopback IPv4 address (one the API server may route to), or undefined. */
export function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

/**
 * Points the webhook Service at `port` on this machine, in the slice `<service>-<name>` (one per
 * extender process: a slice has one port list, and each process has a port of its own).
 */
export async function publishWebhookEndpoint(
  cluster: Cluster,
  port: number,
  name = "e2e",
  service = "nls-extender-webhook",
) {
  const address = hostAddress();
  if (!address) throw new Error("no non-loopback IPv4 address on this machine: the API server cannot reach a webhook");
  const slice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `${service}-${name}`,
      namespace: "kube-system",
      labels: { "kubernetes.io/service-name": service, "endpointslice.kubernetes.io/managed-by": "nls-e2e" },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: "webhook", port, protocol: "TCP" }],
  };
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(slice));
}

/** Removes the slice publishWebhookEndpoint wrote under `name`. */
export async function withdrawWebhookEndpoint(cluster: Cluster, name = "e2e", service = "nls-extender-webhook") {
  await cluster.kubectlOk(["-n", "kube-system", "delete", "endpointslice", `${service}-${name}`, "--ignore-not-found"]);
}
