import type { NodeLocalStorage, NodeLocalStorageInitConfig } from "@nls/api";

/**
 * The slice of the Kubernetes API the node agent needs, and nothing more: its own NodeLocalStorage,
 * the init config it is created from, its Node, Events on the NLS and its Lease. The agent's logic is
 * written against this interface so it can be tested against `FakeKube` (`testing/fake-kube.ts`)
 * without an API server.
 */
export interface AgentKubeClient {
  /** The NLS named `name`, or `undefined` when it does not exist. */
  getNls(name: string): Promise<NodeLocalStorage | undefined>;
  /** Creates the NLS; throws `KubeError` 409 when it already exists. */
  createNls(nls: NodeLocalStorage): Promise<NodeLocalStorage>;
  /**
   * Replaces the status subresource. `nls.metadata.resourceVersion` must be the version the status was
   * computed from: a stale one throws `KubeError` 409 and nothing is written.
   */
  replaceNlsStatus(nls: NodeLocalStorage): Promise<NodeLocalStorage>;
  /**
   * Watches one NLS. `onEvent` sees every ADDED/MODIFIED/DELETED object; `onDone` is called once when
   * the watch ends for any reason (the caller restarts it).
   */
  watchNls(
    name: string,
    onEvent: (type: WatchEventType, nls: NodeLocalStorage) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle>;
  /** The NodeLocalStorageInitConfig named `name`, or `undefined`. */
  getInitConfig(name: string): Promise<NodeLocalStorageInitConfig | undefined>;
  /** The Node; throws `KubeError` 404 when it does not exist. */
  getNode(name: string): Promise<NodeRef>;
  /**
   * Records an Event about `involved` in `namespace` (an implementation may substitute a namespace the
   * API server accepts for Events about cluster-scoped objects).
   */
  createEvent(namespace: string, involved: NodeLocalStorage, event: AgentEvent): Promise<void>;
  getLease(namespace: string, name: string): Promise<Lease | undefined>;
  /** Throws `KubeError` 409 when it already exists. */
  createLease(lease: Lease): Promise<Lease>;
  /** Throws `KubeError` 409 when `lease.resourceVersion` is stale. */
  replaceLease(lease: Lease): Promise<Lease>;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchHandle {
  stop(): void;
}

export interface NodeRef {
  name: string;
  uid: string;
  labels: Record<string, string>;
}

export interface AgentEvent {
  type: "Normal" | "Warning";
  /** UpperCamelCase, machine-readable (e.g. `InitRefused`). */
  reason: string;
  message: string;
  /** What the agent did or tried (UpperCamelCase, e.g. `InitVolumeGroup`); `Reconcile` when absent. */
  action?: string;
}

/** A `coordination.k8s.io/v1` Lease, flattened to the fields the agent uses. */
export interface Lease {
  namespace: string;
  name: string;
  resourceVersion?: string;
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: Date;
  renewTime: Date;
  /** The Node the Lease belongs to, so it is garbage-collected with it. */
  owner?: NodeRef;
}

/** An API error with its HTTP status; the agent branches on 404 and 409 only. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "KubeError";
  }
}

export const isConflict = (err: unknown): boolean => err instanceof KubeError && err.code === 409;
export const isNotFound = (err: unknown): boolean => err instanceof KubeError && err.code === 404;
