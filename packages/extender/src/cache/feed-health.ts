/** How one informer feed is doing, as plain data (the informers report it; readiness and metrics read it). */
export interface FeedHealth {
  kind: string;
  /** Its first list landed: the cache holds the kind. */
  synced: boolean;
  /** When it went blind (a failed list or watch), clock ms; `undefined` while it is up. */
  downSince: number | undefined;
  /** When the informers started, clock ms: a feed never synced has been blind since then. */
  startedAt: number;
}

/**
 * A feed down for longer than this makes the replica unready: its cache is stale and it would decide on
 * capacity it no longer sees. Longer than a few quick restarts (1 s, 2 s, 4 s …), shorter than the
 * 30 s a feed could sit out under the longest backoff.
 */
export const WATCH_DOWN_UNREADY_MS = 20_000;

/** Seconds the feed has been without a live watch: 0 while up, else since it went down (or started). */
export function unsyncedSeconds(feed: FeedHealth, now: number): number {
  if (!feed.synced) return Math.max(0, now - feed.startedAt) / 1000;
  return feed.downSince === undefined ? 0 : Math.max(0, now - feed.downSince) / 1000;
}

/** `undefined` when the feed may be trusted, else what is wrong with it, for `/readyz`. */
export function feedProblem(feed: FeedHealth, now: number, thresholdMs = WATCH_DOWN_UNREADY_MS): string | undefined {
  if (!feed.synced) return `${feed.kind}: not synced yet`;
  if (feed.downSince !== undefined && now - feed.downSince > thresholdMs) {
    return `${feed.kind}: watch down for ${Math.round((now - feed.downSince) / 1000)}s`;
  }
  return undefined;
}
