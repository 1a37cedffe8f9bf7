import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  StorageV1Api,
  type KubeConfig,
  type V1Pod,
} from "@kubernetes/client-node";
import { GROUP, NLS_PLURAL, VERSION, type NodeLocalStorage } from "@nls/api";
import type { ClusterReader, NamedKind, ServiceRef } from "./reader.js";
import { getThroughService, type ProxyApi } from "./service-proxy-get.js";
import type { ClusterState } from "./state.js";

/** Items per list request: large clusters are read in pages, as kubectl does. */
const PAGE = 500;

interface Page<T> {
  items: T[];
  metadata?: { _continue?: string; continue?: string };
}

async function listAll<T>(page: (cont: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let cont: string | undefined;
  do {
    const p = await page(cont);
    out.push(...p.items);
    cont = p.metadata?._continue || p.metadata?.continue || undefined;
  } while (cont);
  return out;
}

const notFound = (e: unknown): boolean => e instanceof ApiException && e.code === 404;

/**
 * The API server as `kubectl nls` reads it: lists in pages, one get for the pod, the extender's pod
 * through its Service's EndpointSlices and pods/proxy (service-proxy-get.ts).
 */
export class ApiReader implements ClusterReader {
  private readonly core: CoreV1Api;
  private readonly storage: StorageV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly proxy: ProxyApi;

  constructor(kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.storage = kubeConfig.makeApiClient(StorageV1Api);
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    this.proxy = {
      service: (namespace, name) => this.core.readNamespacedService({ namespace, name }),
      endpointSlices: async (namespace, service) =>
        (
          await discovery.listNamespacedEndpointSlice({
            namespace,
            labelSelector: `kubernetes.io/service-name=${service}`,
          })
        ).items,
      podProxy: (namespace, name, path) => this.core.connectGetNamespacedPodProxyWithPath({ namespace, name, path }),
      serviceProxy: (namespace, name, path) =>
        this.core.connectGetNamespacedServiceProxyWithPath({ namespace, name, path }),
    };
  }

  async state(leaseNamespace: string): Promise<ClusterState> {
    const [nodes, nls, storageClasses, pvs, pvcs, leases] = await Promise.all([
      listAll((c) => this.core.listNode({ limit: PAGE, _continue: c })),
      listAll(
        (c) =>
          this.custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: NLS_PLURAL,
            limit: PAGE,
            _continue: c,
          }) as Promise<Page<NodeLocalStorage>>,
      ),
      listAll((c) => this.storage.listStorageClass({ limit: PAGE, _continue: c })),
      listAll((c) => this.core.listPersistentVolume({ limit: PAGE, _continue: c })),
      listAll((c) => this.core.listPersistentVolumeClaimForAllNamespaces({ limit: PAGE, _continue: c })),
      listAll((c) => this.coordination.listNamespacedLease({ namespace: leaseNamespace, limit: PAGE, _continue: c })),
    ]);
    return { objects: { nodes, nls, storageClasses, pvs, pvcs, ignored: {} }, leases };
  }

  async pod(namespace: string, name: string): Promise<V1Pod | undefined> {
    try {
      return await this.core.readNamespacedPod({ namespace, name });
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  async schedulingMessages(namespace: string, pod: string): Promise<string[]> {
    const events = await this.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod},reason=FailedScheduling`,
    });
    const time = (e: (typeof events.items)[number]) =>
      new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? 0).getTime();
    return events.items
      .sort((a, b) => time(a) - time(b))
      .map((e) => e.message ?? "")
      .filter(Boolean);
  }

  async extenderCache(target: ServiceRef | URL): Promise<{ body: unknown; from: string }> {
    if (target instanceof URL) {
      const res = await fetch(new URL("cache", target.href.endsWith("/") ? target : `${target.href}/`), {
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`GET ${res.url}: ${res.status} ${await res.text()}`);
      return { body: await res.json(), from: target.href };
    }
    const { body, from } = await getThroughService(this.proxy, target, "cache");
    return { body: typeof body === "string" ? JSON.parse(body) : body, from };
  }

  async names(kind: NamedKind, namespace: string): Promise<string[]> {
    const items: Array<{ metadata?: { name?: string } }> =
      kind === "node"
        ? (await this.core.listNode()).items
        : kind === "storageclass"
          ? (await this.storage.listStorageClass()).items
          : kind === "namespace"
            ? (await this.core.listNamespace()).items
            : (await this.core.listNamespacedPod({ namespace, fieldSelector: "spec.nodeName=" })).items;
    return items
      .map((i) => i.metadata?.name ?? "")
      .filter(Boolean)
      .sort();
  }
}
