import {
  API_VERSION,
  GROUP,
  NLSC_PLURAL,
  NLS_KIND,
  NLS_PLURAL,
  VERSION,
  type NodeLocalStorage,
  type NodeLocalStorageInitConfig,
} from "@nls/api";
import type { ApiEndpoint } from "./api-endpoint.js";
import { API_CALL_TIMEOUT_MS, ApiTransport, type WatchEvent } from "./api-transport.js";
import {
  KubeError,
  isNotFound,
  type AgentEvent,
  type AgentKubeClient,
  type Lease,
  type NodeRef,
  type WatchEventType,
  type WatchHandle,
} from "./client.js";

/** The API server rejects longer Event messages. */
const EVENT_NOTE_LIMIT = 1024;

const NLS_PATH = `/apis/${GROUP}/${VERSION}/${NLS_PLURAL}`;
const NLSC_PATH = `/apis/${GROUP}/${VERSION}/${NLSC_PLURAL}`;
const leasesPath = (namespace: string) =>
  `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;

/**
 * The namespace an Event about a cluster-scoped object (the NLS) may live in: the API server accepts
 * only `default` and `kube-system` for those, so any other configured namespace falls back to `default`.
 */
export function eventNamespaceForClusterScoped(preferred: string): string {
  return preferred === "kube-system" || preferred === "default" ? preferred : "default";
}

/**
 * The agent's client interface over plain HTTPS (`ApiTransport`): the handful of calls the agent makes,
 * without @kubernetes/client-node, whose generated models alone cost a process ~70 MiB of memory.
 * Writes are plain PUTs carrying the resourceVersion that was read, so the API server refuses a stale
 * one with 409 — the optimistic concurrency every writer relies on.
 */
export class HttpKube implements AgentKubeClient {
  private readonly api: ApiTransport;
  /** `source.component` and `reportingComponent` of the Events the agent records. */
  private readonly component: string;

  constructor(endpoint: ApiEndpoint, opts: { component?: string; timeoutMs?: number } = {}) {
    this.component = opts.component ?? "nls-agent";
    this.api = new ApiTransport(endpoint, opts.timeoutMs ?? API_CALL_TIMEOUT_MS);
  }

  getNls(name: string): Promise<NodeLocalStorage | undefined> {
    return this.getIfExists(`get nodelocalstorage ${name}`, `${NLS_PATH}/${encodeURIComponent(name)}`);
  }

  createNls(nls: NodeLocalStorage): Promise<NodeLocalStorage> {
    const body = { apiVersion: API_VERSION, kind: NLS_KIND, ...nls };
    return this.api.request(`create nodelocalstorage ${nls.metadata.name}`, "POST", NLS_PATH, body);
  }

  async replaceNlsStatus(nls: NodeLocalStorage): Promise<NodeLocalStorage> {
    const name = nls.metadata.name ?? "";
    if (!nls.metadata.resourceVersion) throw new Error(`status of nodelocalstorage ${name}: no resourceVersion`);
    // PUT on /status with the resourceVersion read: the API server answers 409 if anyone wrote since.
    const body = { apiVersion: API_VERSION, kind: NLS_KIND, ...nls };
    return this.api.request(
      `update status of nodelocalstorage ${name}`,
      "PUT",
      `${NLS_PATH}/${encodeURIComponent(name)}/status`,
      body,
    );
  }

  /**
   * A watch from "now": started without a resourceVersion, the API server first sends the object as it
   * is (ADDED), so each new watch the caller starts after one ended is also a fresh read of the object.
   * An ERROR event (410 Gone among them) ends the watch with a `KubeError` carrying its code.
   */
  watchNls(
    name: string,
    onEvent: (type: WatchEventType, nls: NodeLocalStorage) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    const what = `watch of nodelocalstorage ${name}`;
    const query = new URLSearchParams({
      watch: "true",
      fieldSelector: `metadata.name=${name}`,
      allowWatchBookmarks: "false",
    });
    let handle: WatchHandle | undefined;
    const onWatchEvent = ({ type, object }: WatchEvent) => {
      if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") onEvent(type, object as NodeLocalStorage);
      else if (type === "ERROR") {
        const status = (object ?? {}) as { code?: number; message?: string };
        handle?.stop();
        onDone(
          new KubeError(
            status.code ?? 500,
            `${what}: HTTP ${status.code ?? "?"}: ${status.message ?? JSON.stringify(object)}`,
          ),
        );
      }
      // BOOKMARK (not asked for) carries no object change.
    };
    return this.api.watch(what, `${NLS_PATH}?${query}`, onWatchEvent, onDone).then((h) => (handle = h));
  }

  getInitConfig(name: string): Promise<NodeLocalStorageInitConfig | undefined> {
    return this.getIfExists(`get nodelocalstorageinitconfig ${name}`, `${NLSC_PATH}/${encodeURIComponent(name)}`);
  }

  async getNode(name: string): Promise<NodeRef> {
    const node = await this.api.request<{ metadata?: { uid?: string; labels?: Record<string, string> } }>(
      `get node ${name}`,
      "GET",
      `/api/v1/nodes/${encodeURIComponent(name)}`,
    );
    return { name, uid: node.metadata?.uid ?? "", labels: node.metadata?.labels ?? {} };
  }

  async createEvent(namespace: string, involved: NodeLocalStorage, event: AgentEvent): Promise<void> {
    const now = new Date();
    const involvedName = involved.metadata.name ?? "";
    const ns = eventNamespaceForClusterScoped(namespace);
    const body = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${involvedName}.`, namespace: ns },
      involvedObject: {
        apiVersion: API_VERSION,
        kind: NLS_KIND,
        name: involvedName,
        uid: involved.metadata.uid,
        resourceVersion: involved.metadata.resourceVersion,
      },
      type: event.type,
      reason: event.reason,
      message: event.message.slice(0, EVENT_NOTE_LIMIT),
      // eventTime makes this a "new" Event, the only kind the API server accepts in kube-system about
      // a cluster-scoped object; it then also requires the reporting fields and an action.
      eventTime: microTime(now),
      action: event.action ?? "Reconcile",
      reportingComponent: this.component,
      reportingInstance: `${this.component}-${involvedName}`.slice(0, 128),
      source: { component: this.component, host: involved.spec?.nodeName ?? involvedName },
      firstTimestamp: now.toISOString(),
      lastTimestamp: now.toISOString(),
      count: 1,
    };
    await this.api.request(
      `create event ${event.reason} for nodelocalstorage ${involvedName}`,
      "POST",
      `/api/v1/namespaces/${encodeURIComponent(ns)}/events`,
      body,
    );
  }

  async getLease(namespace: string, name: string): Promise<Lease | undefined> {
    const lease = await this.getIfExists<WireLease>(
      `get lease ${namespace}/${name}`,
      `${leasesPath(namespace)}/${encodeURIComponent(name)}`,
    );
    return lease && fromWireLease(lease);
  }

  async createLease(lease: Lease): Promise<Lease> {
    const created = await this.api.request<WireLease>(
      `create lease ${lease.namespace}/${lease.name}`,
      "POST",
      leasesPath(lease.namespace),
      toWireLease(lease),
    );
    return fromWireLease(created);
  }

  async replaceLease(lease: Lease): Promise<Lease> {
    const replaced = await this.api.request<WireLease>(
      `renew lease ${lease.namespace}/${lease.name}`,
      "PUT",
      `${leasesPath(lease.namespace)}/${encodeURIComponent(lease.name)}`,
      toWireLease(lease),
    );
    return fromWireLease(replaced);
  }
  /** The object at `path`, or `undefined` when the API server answers 404. */
  private async getIfExists<T>(what: string, path: string): Promise<T | undefined> {
    try {
      return await this.api.request<T>(what, "GET", path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/** A `coordination.k8s.io/v1` Lease as JSON, the fields the agent reads and writes. */
interface WireLease {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
  };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
  };
}

/** A metav1.MicroTime: RFC 3339 with six fractional digits, which the API server requires for Lease and Event times. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, "000Z");
}

function toWireLease(lease: Lease): WireLease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name: lease.name,
      namespace: lease.namespace,
      resourceVersion: lease.resourceVersion,
      ownerReferences: lease.owner
        ? [{ apiVersion: "v1", kind: "Node", name: lease.owner.name, uid: lease.owner.uid }]
        : undefined,
    },
    spec: {
      holderIdentity: lease.holderIdentity,
      leaseDurationSeconds: lease.leaseDurationSeconds,
      acquireTime: lease.acquireTime && microTime(lease.acquireTime),
      renewTime: microTime(lease.renewTime),
    },
  };
}

function fromWireLease(v: WireLease): Lease {
  const owner = v.metadata?.ownerReferences?.find((o) => o.kind === "Node");
  return {
    namespace: v.metadata?.namespace ?? "",
    name: v.metadata?.name ?? "",
    resourceVersion: v.metadata?.resourceVersion,
    holderIdentity: v.spec?.holderIdentity ?? "",
    leaseDurationSeconds: v.spec?.leaseDurationSeconds ?? 0,
    acquireTime: v.spec?.acquireTime ? new Date(v.spec.acquireTime) : undefined,
    renewTime: v.spec?.renewTime ? new Date(v.spec.renewTime) : new Date(0),
    owner: owner && { name: owner.name, uid: owner.uid, labels: {} },
  };
}
