import type { KubeApi, Watch } from "./kube-api.js";
import { ResourceCache, type CachedObject } from "./resource-cache.js";

export interface InformerHandlers<T> {
  /** An object added or changed (also each object of a list, a re-list included). */
  changed?(o: T): void;
  /** An object deleted, or gone from a re-list. */
  removed?(o: T): void;
}

/**
 * client-go's reflector, small: lists a collection once, then watches it from the list's
 * resourceVersion into a ResourceCache; when the watch reports an ERROR (a 410 Gone among them), fails,
 * or ends, it lists again and watches from there, so no change is missed. Nothing is polled.
 */
export class Informer<T extends CachedObject> {
  readonly cache: ResourceCache<T>;
  /** Resolves once the first list is in the cache. */
  readonly synced: Promise<void>;
  private markSynced = () => {};
  private stopped = false;
  /** Closes the current watch and ends its watchFrom. */
  private endWatch: (() => void) | undefined;
  private pause: { timer: NodeJS.Timeout; resume(): void } | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly api: KubeApi,
    /** The collection, e.g. `/api/v1/persistentvolumeclaims`. */
    private readonly path: string,
    private readonly handlers: InformerHandlers<T>,
    indexKeys?: (o: T) => readonly string[],
    /** The wait before listing again after a failed list or watch. */
    private readonly retryMs = 500,
  ) {
    this.cache = new ResourceCache(indexKeys);
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Closes the watch and any pending wait; a list in flight is dropped when it answers. */
  stop(): void {
    this.stopped = true;
    this.endWatch?.();
    if (this.pause) {
      clearTimeout(this.pause.timer);
      this.pause.resume();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let failed = true;
      try {
        // resourceVersion=0, as client-go lists: served from the API server's watch cache, so the watch
        // from the list's resourceVersion is served by the same cache (a list from etcd can be ahead of
        // it, and the watch then fails with "Too large resource version").
        const list = await this.api.get<{ metadata: { resourceVersion: string }; items: T[] }>(
          this.withQuery("resourceVersion=0"),
        );
        if (this.stopped) return;
        const { changed, removed } = this.cache.replace(list.items);
        for (const o of removed) this.handlers.removed?.(o);
        for (const o of changed) this.handlers.changed?.(o);
        this.markSynced();
        failed = await this.watchFrom(list.metadata.resourceVersion);
      } catch {
        // Listed again after the pause.
      }
      if (failed && !this.stopped) {
        await new Promise<void>((resume) => (this.pause = { timer: setTimeout(resume, this.retryMs), resume }));
        this.pause = undefined;
      }
    }
  }

  /** Applies the watch's events until it ends; whether it ended in a failure (then the list waits). */
  private watchFrom(resourceVersion: string): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (failed: boolean) => {
        this.endWatch = undefined;
        resolve(failed);
      };
      const watch: Watch = this.api.watch<T>(
        this.withQuery(`resourceVersion=${encodeURIComponent(resourceVersion)}`),
        (event) => {
          if (event.type === "ADDED" || event.type === "MODIFIED") {
            if (this.cache.upsert(event.object)) this.handlers.changed?.(event.object);
          } else if (event.type === "DELETED") {
            const old = this.cache.remove(event.object.metadata.uid);
            if (old) this.handlers.removed?.(old);
          } else if (event.type === "ERROR") {
            // E.g. 410 Gone: the resourceVersion is older than the API server keeps. List again.
            watch.close();
            finish(true);
          }
        },
        (error) => finish(error !== undefined),
      );
      this.endWatch = () => {
        watch.close();
        finish(false);
      };
      if (this.stopped) this.endWatch();
    });
  }

  private withQuery(query: string): string {
    return `${this.path}${this.path.includes("?") ? "&" : "?"}${query}`;
  }
}
