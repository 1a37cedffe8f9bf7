import type { V1Pod } from "@kubernetes/client-node";
import type { ClusterReader, NamedKind, ServiceRef } from "../src/cluster/reader.js";
import type { ClusterState } from "../src/cluster/state.js";

/**
 * Test only: a ClusterReader over fixed objects; the extender's `/cache` answers `cache` (from the URL
 * asked, or from the pod `answeredBy` of a Service's namespace) or throws it.
 */
export class FakeReader implements ClusterReader {
  /** Every extender target asked, and every lease namespace read. */
  readonly asked: Array<ServiceRef | URL> = [];
  readonly leaseNamespaces: string[] = [];

  constructor(
    private readonly fixed: ClusterState,
    private readonly pods: V1Pod[] = [],
    private readonly cache: unknown = new Error("connection refused"),
    private readonly events: Record<string, string[]> = {},
    private readonly answeredBy = "nls-extender-7c9d-x2k4q",
  ) {}

  async state(leaseNamespace: string): Promise<ClusterState> {
    this.leaseNamespaces.push(leaseNamespace);
    return this.fixed;
  }
  async pod(namespace: string, name: string): Promise<V1Pod | undefined> {
    return this.pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
  }
  async schedulingMessages(namespace: string, pod: string): Promise<string[]> {
    return this.events[`${namespace}/${pod}`] ?? [];
  }
  async extenderCache(target: ServiceRef | URL): Promise<{ body: unknown; from: string }> {
    this.asked.push(target);
    if (this.cache instanceof Error) throw this.cache;
    const from = target instanceof URL ? target.href : `pod ${target.namespace}/${this.answeredBy}`;
    return { body: this.cache, from };
  }
  async names(kind: NamedKind, namespace: string): Promise<string[]> {
    if (kind === "namespace") return [...new Set(this.pods.map((p) => p.metadata!.namespace!))].sort();
    if (kind === "node") return this.fixed.objects.nodes.map((n) => n.metadata!.name!).sort();
    if (kind === "storageclass") return this.fixed.objects.storageClasses.map((n) => n.metadata!.name!).sort();
    return this.pods
      .filter((p) => p.metadata?.namespace === namespace && !p.spec?.nodeName)
      .map((p) => p.metadata!.name!)
      .sort();
  }
}
