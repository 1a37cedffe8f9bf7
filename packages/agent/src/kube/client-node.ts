import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  V1MicroTime,
  Watch,
  type CoreV1Event,
  type V1Lease,
} from "@kubernetes/client-node";
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

/**
 * The namespace an Event about a cluster-scoped object (the NLS) may live in: the API server accepts
 * only `default` and `kube-system` for those, so any other configured namespace falls back to `default`.
 */
export function eventNamespaceForClusterScoped(preferred: string): string {
  return preferred === "kube-system" || preferred === "default" ? preferred : "default";
}

/** The agent's client interface over @kubernetes/client-node 1.4 (one-object calls, ApiException errors). */
export class ClientNodeKube implements AgentKubeClient {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly watcher: Watch;

  /** `source.component` and `reportingComponent` of the Events the agent records. */
  private readonly component: string;
  private readonly timeoutMs: number;

  constructor(kc: KubeConfig, opts: { component?: string; timeoutMs?: number } = {}) {
    this.component = opts.component ?? "nls-agent";
    this.timeoutMs = opts.timeoutMs ?? API_CALL_TIMEOUT_MS;
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.watcher = new Watch(kc);
  }

  async getNls(name: string): Promise<NodeLocalStorage | undefined> {
    return orUndefinedOn404(
      this.call(`get nodelocalstorage ${name}`, () =>
        this.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: NLS_PLURAL, name }),
      ),
    ) as Promise<NodeLocalStorage | undefined>;
  }

  async createNls(nls: NodeLocalStorage): Promise<NodeLocalStorage> {
    const body = { apiVersion: API_VERSION, kind: NLS_KIND, ...nls };
    return (await this.call(`create nodelocalstorage ${nls.metadata.name}`, () =>
      this.custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: NLS_PLURAL, body }),
    )) as NodeLocalStorage;
  }

  async replaceNlsStatus(nls: NodeLocalStorage): Promise<NodeLocalStorage> {
    const name = nls.metadata.name ?? "";
    if (!nls.metadata.resourceVersion) throw new Error(`status of nodelocalstorage ${name}: no resourceVersion`);
    // PUT on /status with the resourceVersion read: the API server answers 409 if anyone wrote since.
    const body = { apiVersion: API_VERSION, kind: NLS_KIND, ...nls };
    return (await this.call(`update status of nodelocalstorage ${name}`, () =>
      this.custom.replaceClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural: NLS_PLURAL, name, body }),
    )) as NodeLocalStorage;
  }

  async watchNls(
    name: string,
    onEvent: (type: WatchEventType, nls: NodeLocalStorage) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    let finished = false;
    const done = (err?: unknown) => {
      if (finished) return;
      finished = true;
      onDone(err);
    };
    const controller = await this.watcher.watch(
      `/apis/${GROUP}/${VERSION}/${NLS_PLURAL}`,
      { fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: false },
      (phase, obj) => {
        if (phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED") onEvent(phase, obj as NodeLocalStorage);
        // An ERROR object (e.g. 410 Gone) ends this watch; the caller starts a new one from a fresh read.
        else if (phase === "ERROR") done(new Error(`watch of nodelocalstorage ${name}: ${JSON.stringify(obj)}`));
      },
      (err) => done(err ?? undefined),
    );
    return {
      stop: () => {
        finished = true;
        controller.abort();
      },
    };
  }

  async getInitConfig(name: string): Promise<NodeLocalStorageInitConfig | undefined> {
    return orUndefinedOn404(
      this.call(`get nodelocalstorageinitconfig ${name}`, () =>
        this.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: NLSC_PLURAL, name }),
      ),
    ) as Promise<NodeLocalStorageInitConfig | undefined>;
  }

  async getNode(name: string): Promise<NodeRef> {
    const node = await this.call(`get node ${name}`, () => this.core.readNode({ name }));
    return { name, uid: node.metadata?.uid ?? "", labels: node.metadata?.labels ?? {} };
  }

  async createEvent(namespace: string, involved: NodeLocalStorage, event: AgentEvent): Promise<void> {
    const now = new Date();
    const involvedName = involved.metadata.name ?? "";
    const ns = eventNamespaceForClusterScoped(namespace);
    const body: CoreV1Event = {
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
      eventTime: new V1MicroTime(now.getTime()),
      action: event.action ?? "Reconcile",
      reportingComponent: this.component,
      reportingInstance: `${this.component}-${involvedName}`.slice(0, 128),
      source: { component: this.component, host: involved.spec?.nodeName ?? involvedName },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.call(`create event ${event.reason} for nodelocalstorage ${involvedName}`, () =>
      this.core.createNamespacedEvent({ namespace: ns, body }),
    );
  }

  async getLease(namespace: string, name: string): Promise<Lease | undefined> {
    const lease = await orUndefinedOn404(
      this.call(`get lease ${namespace}/${name}`, () => this.coordination.readNamespacedLease({ namespace, name })),
    );
    return lease && fromV1Lease(lease);
  }

  async createLease(lease: Lease): Promise<Lease> {
    const body = toV1Lease(lease);
    const created = await this.call(`create lease ${lease.namespace}/${lease.name}`, () =>
      this.coordination.createNamespacedLease({ namespace: lease.namespace, body }),
    );
    return fromV1Lease(created);
  }

  async replaceLease(lease: Lease): Promise<Lease> {
    const body = toV1Lease(lease);
    const replaced = await this.call(`renew lease ${lease.namespace}/${lease.name}`, () =>
      this.coordination.replaceNamespacedLease({ namespace: lease.namespace, name: lease.name, body }),
    );
    return fromV1Lease(replaced);
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return call(what, fn, this.timeoutMs);
  }
}

function toV1Lease(lease: Lease): V1Lease {
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
      // MicroTime serialises with six fractional digits, which the API server requires for Lease times.
      acquireTime: lease.acquireTime && new V1MicroTime(lease.acquireTime.getTime()),
      renewTime: new V1MicroTime(lease.renewTime.getTime()),
    },
  };
}

function fromV1Lease(v: V1Lease): Lease {
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

/**
 * How long one API call may take. client-node sets no timeout, and a call hanging on a half-dead
 * connection would stall the reconcile loop (and a graceful shutdown) forever.
 */
export const API_CALL_TIMEOUT_MS = 30_000;

/** Runs one API call, turning client-node's ApiException into a `KubeError` with a readable message. */
async function call<T>(what: string, fn: () => Promise<T>, timeoutMs = API_CALL_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs / 1000}s`)), timeoutMs);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } catch (err) {
    if (err instanceof ApiException)
      throw new KubeError(err.code, `${what}: HTTP ${err.code}: ${apiMessage(err.body)}`);
    if (err instanceof Error && err.message.startsWith(`${what}: `)) throw err;
    throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

async function orUndefinedOn404<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The `message` of a Kubernetes Status body when there is one, else the body itself. */
function apiMessage(body: unknown): string {
  if (typeof body === "string") {
    try {
      return apiMessage(JSON.parse(body));
    } catch {
      return body;
    }
  }
  if (body && typeof body === "object" && "message" in body && typeof body.message === "string") return body.message;
  return JSON.stringify(body);
}
