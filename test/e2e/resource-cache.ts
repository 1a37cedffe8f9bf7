import { isStale } from "@nls/api";

/**
 * A local copy of one kind of Kubernetes object, keyed by uid, fed by a list and then by a watch (see
 * informer.ts). Pure: no I/O, so the ordering rules are tested on their own. An update older than the
 * cached object (`isStale`, the extender's rule: etcd revisions compared as numbers) is kept out.
 */

export interface CachedObject {
  metadata: { uid: string; resourceVersion?: string };
}

export class ResourceCache<T extends CachedObject> {
  private readonly byUid = new Map<string, T>();
  private readonly index = new Map<string, Set<string>>();

  /** `indexKeys`: the keys under which `byIndex` finds an object (e.g. a pod under each claim it uses). */
  constructor(private readonly indexKeys: (o: T) => readonly string[] = () => []) {}

  get(uid: string): T | undefined {
    return this.byUid.get(uid);
  }

  values(): IterableIterator<T> {
    return this.byUid.values();
  }

  get size(): number {
    return this.byUid.size;
  }

  byIndex(key: string): T[] {
    return [...(this.index.get(key) ?? [])].map((uid) => this.byUid.get(uid)!);
  }

  /** An ADDED or MODIFIED object: false (and the cache unchanged) when the cache holds a newer one. */
  upsert(o: T): boolean {
    const old = this.byUid.get(o.metadata.uid);
    if (isStale(o, old)) return false;
    if (old) this.unindex(old);
    this.byUid.set(o.metadata.uid, o);
    for (const key of this.indexKeys(o)) {
      let uids = this.index.get(key);
      if (!uids) this.index.set(key, (uids = new Set()));
      uids.add(o.metadata.uid);
    }
    return true;
  }

  /** A DELETED object (or one a list no longer holds): the cached copy, if there was one. */
  remove(uid: string): T | undefined {
    const old = this.byUid.get(uid);
    if (!old) return undefined;
    this.byUid.delete(uid);
    this.unindex(old);
    return old;
  }

  /**
   * A fresh list: its items are upserted, and what the cache holds that the list does not is removed.
   * Returns the items taken and the objects removed.
   */
  replace(items: readonly T[]): { changed: T[]; removed: T[] } {
    const listed = new Set(items.map((o) => o.metadata.uid));
    const removed = [...this.byUid.keys()].filter((uid) => !listed.has(uid)).map((uid) => this.remove(uid)!);
    return { changed: items.filter((o) => this.upsert(o)), removed };
  }

  private unindex(o: T): void {
    for (const key of this.indexKeys(o)) {
      const uids = this.index.get(key);
      uids?.delete(o.metadata.uid);
      if (uids?.size === 0) this.index.delete(key);
    }
  }
}
