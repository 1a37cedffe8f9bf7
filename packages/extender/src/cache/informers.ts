import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  StorageV1Api,
  Watch,
  type V1Lease,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1StorageClass,
} from "@kubernetes/client-node";
import { GROUP, NLS_PLURAL, VERSION, type NodeLocalStorage } from "@nls/api";
import type { Logger } from "@nls/daemon";
import type { FeedHealth } from "./feed-health.js";
import { releaseAfterApply, trimForCache } from "./trim.js";
import type { ClusterStore } from "./store.js";

interface Handlers<T> {
  apply(obj: T): void;
  remove(obj: T): void;
}

export interface InformerOptions {
  /** First restart delay after a watch/list error; doubles up to 30 s. */
  restartMinMs?: number;
  /** Told of every list/watch failure (before the restart), by the kind watched. */
  onFailure?: (kind: string) => void;
  /** A feed up this long without failing starts its next restart from `restartMinMs` again. */
  healthyResetMs?: number;
  clock?: () => number;
}

const RESTART_MAX_MS = 30_000;

/** What the informers watch (the `kind` label of nls_extender_watch_failures_total). */
export const WATCHED_KINDS = [
  "NodeLocalStorage",
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "Lease",
] as const;

/**
 * One list+watch feeding the store. client-node's ListWatch stops for good on any error but 410, so
 * this restarts it with capped exponential backoff. It counts as synced once its first list landed, and
 * as down from a failure until a restart has listed or watched again. The backoff starts over once the
 * feed has stayed up for `healthyResetMs`: a restart after a clean watch end re-watches without listing,
 * so resetting on a list alone would leave every later failure of a long-lived feed at the 30 s cap.
 */
class Feed<T extends KubernetesObject> {
  private readonly watch: ListWatch<T>;
  private listed = false;
  synced = false;
  private stopped = false;
  private backoff: number;
  private timer: NodeJS.Timeout | undefined;
  /** When the feed went blind; `undefined` while up. */
  downSince: number | undefined;
  /** When the feed last came up (clock ms). */
  private upSince: number;
  private failures = 0;

  constructor(
    readonly kind: string,
    kc: KubeConfig,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    handlers: Handlers<T>,
    private readonly log: Logger,
    private readonly restartMinMs: number,
    private readonly onFailure: (kind: string) => void,
    private readonly healthyResetMs: number,
    private readonly clock: () => number,
  ) {
    this.backoff = restartMinMs;
    this.upSince = clock();
    const listed = async () => {
      const result = await list();
      this.listed = true;
      this.up();
      return result;
    };
    this.watch = new ListWatch<T>(path, new Watch(kc), listed, false);
    const guard = (what: string, fn: (obj: T) => void) => (obj: T) => {
      this.up();
      try {
        fn(trimForCache(obj, kind));
      } catch (err) {
        this.log.error({ err, kind, name: obj.metadata?.name, op: what }, "watch event not applied to the cache");
      }
      releaseAfterApply(obj, kind);
    };
    this.watch.on("add", guard("apply", handlers.apply));
    this.watch.on("update", guard("apply", handlers.apply));
    this.watch.on("delete", guard("remove", handlers.remove));
    this.watch.on("error", (err: unknown) => this.failed(err));
  }

  /** A list, an event or an established watch: the feed sees the API server again. */
  private up(): void {
    if (this.downSince === undefined) return;
    this.log.info({ kind: this.kind, downMs: this.clock() - this.downSince }, "watch restored");
    this.downSince = undefined;
    this.upSince = this.clock();
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    this.onFailure(this.kind);
    const now = this.clock();
    if (this.downSince === undefined) {
      if (now - this.upSince >= this.healthyResetMs) this.backoff = this.restartMinMs;
      this.downSince = now;
    }
    this.log.warn({ kind: this.kind, err, retryInMs: this.backoff }, "watch failed; restarting");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.start(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, RESTART_MAX_MS);
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    const failuresBefore = this.failures;
    try {
      await this.watch.start();
    } catch (err) {
      this.failed(err);
    }
    // ListWatch reports a failed list or watch through its error event, and returns once the watch
    // request is open: no failure since we began means the feed is live again.
    if (this.failures === failuresBefore) this.up();
    if (this.listed && !this.synced) {
      this.synced = true;
      this.log.info({ kind: this.kind, count: this.watch.list().length }, "cache synced");
    }
  }

  health(startedAt: number): FeedHealth {
    return { kind: this.kind, synced: this.synced, downSince: this.downSince, startedAt };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.watch.stop();
  }
}

export interface Informers {
  start(): Promise<void>;
  stop(): Promise<void>;
  synced(): boolean;
  /** Each feed's state, for readiness and the unsynced-seconds gauge. */
  health(): FeedHealth[];
}

/**
 * The informers behind the store: NLS, PV, PVC, StorageClass, agent Leases. No Pod watch: a pod
 * leaving the scheduling queue says nothing the PVC and PV watches will not say better (PreBind wrote
 * selected-node before the pod was bound, and a watch of the queue cannot tell a bound pod from a
 * deleted one), and releasing on it would drop space before its successor is recorded.
 */
export function makeInformers(
  kc: KubeConfig,
  store: ClusterStore,
  log: Logger,
  options: InformerOptions = {},
): Informers {
  const restartMs = options.restartMinMs ?? 1_000;
  const onFailure = options.onFailure ?? (() => {});
  const clock = options.clock ?? Date.now;
  const startedAt = clock();
  const healthy = options.healthyResetMs ?? 10_000;
  const core = kc.makeApiClient(CoreV1Api);
  const storage = kc.makeApiClient(StorageV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ns = store.options.leaseNamespace;
  const feeds = [
    new Feed<NodeLocalStorage & KubernetesObject>(
      "NodeLocalStorage",
      kc,
      `/apis/${GROUP}/${VERSION}/${NLS_PLURAL}`,
      () =>
        custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: NLS_PLURAL }) as Promise<
          KubernetesListObject<NodeLocalStorage & KubernetesObject>
        >,
      { apply: (o) => store.applyNls(o), remove: (o) => store.deleteNls(o.metadata?.name ?? "") },
      log,
      restartMs,
      onFailure,
      healthy,
      clock,
    ),
    new Feed<V1StorageClass>(
      "StorageClass",
      kc,
      "/apis/storage.k8s.io/v1/storageclasses",
      () => storage.listStorageClass(),
      { apply: (o) => store.applyStorageClass(o), remove: (o) => store.deleteStorageClass(o.metadata?.name ?? "") },
      log,
      restartMs,
      onFailure,
      healthy,
      clock,
    ),
    new Feed<V1PersistentVolume>(
      "PersistentVolume",
      kc,
      "/api/v1/persistentvolumes",
      () => core.listPersistentVolume(),
      { apply: (o) => store.applyPv(o), remove: (o) => store.deletePv(o.metadata?.name ?? "") },
      log,
      restartMs,
      onFailure,
      healthy,
      clock,
    ),
    new Feed<V1PersistentVolumeClaim>(
      "PersistentVolumeClaim",
      kc,
      "/api/v1/persistentvolumeclaims",
      () => core.listPersistentVolumeClaimForAllNamespaces(),
      {
        apply: (o) => store.applyPvc(o),
        remove: (o) => store.deletePvc(o.metadata?.namespace ?? "", o.metadata?.name ?? ""),
      },
      log,
      restartMs,
      onFailure,
      healthy,
      clock,
    ),
    new Feed<V1Lease>(
      "Lease",
      kc,
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
      () => coordination.listNamespacedLease({ namespace: ns }),
      { apply: (o) => store.applyLease(o), remove: (o) => store.deleteLease(o.metadata?.name ?? "") },
      log,
      restartMs,
      onFailure,
      healthy,
      clock,
    ),
  ];
  return {
    start: async () => {
      await Promise.all(feeds.map((f) => f.start()));
    },
    stop: async () => {
      await Promise.all(feeds.map((f) => f.stop()));
    },
    synced: () => feeds.every((f) => f.synced),
    health: () => feeds.map((f) => f.health(startedAt)),
  };
}
