import type { V1Pod } from "@kubernetes/client-node";
import type { ClusterState } from "./state.js";

/**
 * Where the extender's Service is: `[https:]namespace/name[:port]`, its port by name or number. Reached
 * through the API server: its EndpointSlices' pod with pods/proxy, else the service proxy (service-proxy-get.ts).
 */
export interface ServiceRef {
  scheme?: "https";
  namespace: string;
  name: string;
  port?: string;
}

export type NamedKind = "node" | "storageclass" | "namespace" | "pending-pod";

/** Everything `kubectl nls` reads from a cluster; the API-server implementation is in api-reader.ts. */
export interface ClusterReader {
  /** Nodes, NodeLocalStorages, StorageClasses, PVs, PVCs, and the Leases of `leaseNamespace`. */
  state(leaseNamespace: string): Promise<ClusterState>;
  /** The pod, or undefined when it does not exist. */
  pod(namespace: string, name: string): Promise<V1Pod | undefined>;
  /** The messages of the pod's FailedScheduling events, newest last. */
  schedulingMessages(namespace: string, pod: string): Promise<string[]>;
  /**
   * The body of the extender's `GET /cache` (parsed JSON), and who answered: the URL, or for a Service
   * the pod its EndpointSlice named (`pod NAMESPACE/NAME`), or the Service when its service proxy did.
   */
  extenderCache(target: ServiceRef | URL): Promise<{ body: unknown; from: string }>;
  /** For shell completion: names of Nodes, StorageClasses, Namespaces, and pods not yet bound to a node in `namespace`. */
  names(kind: NamedKind, namespace: string): Promise<string[]>;
}

/** `[https:]namespace/name[:port]` → ServiceRef, or an error. */
export function parseServiceRef(text: string): { ok: true; ref: ServiceRef } | { ok: false; error: string } {
  const m = /^(?:(https):)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?::([a-z0-9-]+))?$/.exec(
    text,
  );
  if (!m) return { ok: false, error: `expected [https:]NAMESPACE/NAME[:PORT], got ${JSON.stringify(text)}` };
  return {
    ok: true,
    ref: {
      ...(m[1] ? { scheme: "https" as const } : {}),
      namespace: m[2]!,
      name: m[4]!,
      ...(m[6] ? { port: m[6] } : {}),
    },
  };
}

export const serviceRefText = (r: ServiceRef): string =>
  `${r.scheme ? `${r.scheme}:` : ""}${r.namespace}/${r.name}${r.port ? `:${r.port}` : ""}`;
