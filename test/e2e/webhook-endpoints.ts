/**
 * How the test control plane's kube-apiserver reaches the extender's admission webhook through its
 * Service, as in a cluster. The MutatingWebhookConfiguration of deploy/ names the Service
 * `nls-extender-webhook`; kube-apiserver started with `--enable-aggregator-routing=true`
 * (WEBHOOK_ROUTING_ARGS) resolves a Service to an endpoint of its EndpointSlices instead of dialling its
 * ClusterIP (no kube-proxy runs here). The extender runs as a process of this machine, not in a pod, so
 * no EndpointSlice controller can list it: `publishWebhookEndpoint` writes the slice that controller
 * would write for the extender's pod — this machine's own address (not loopback, which slices refuse)
 * and the extender's webhook port under the Service's port name. The certificate is still verified for
 * the Service's name, `nls-extender-webhook.kube-system.svc`, against the configuration's caBundle.
 */
import { networkInterfaces } from "node:os";
import type { Cluster } from "./cluster.js";

export const WEBHOOK_ROUTING_ARGS = ["--enable-aggregator-routing=true"];

/** This machine's first non-loopback IPv4 address. */
export function hostAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === "IPv4" && !a.internal);
    if (found) return found.address;
  }
  throw new Error("no non-loopback IPv4 address on this machine: the API server cannot be routed to a webhook");
}

/** Points the webhook Service at `port` on this machine (replacing what the slice held). */
export async function publishWebhookEndpoint(cluster: Cluster, port: number, service = "nls-extender-webhook") {
  const slice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `${service}-e2e`,
      namespace: "kube-system",
      labels: { "kubernetes.io/service-name": service, "endpointslice.kubernetes.io/managed-by": "nls-e2e" },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: [hostAddress()], conditions: { ready: true } }],
    ports: [{ name: "webhook", port, protocol: "TCP" }],
  };
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(slice));
}
