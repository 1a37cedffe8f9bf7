import type { Logger } from "pino";
import type { ClusterStore } from "../cache/store.js";
import type { ExtenderMetrics } from "../metrics.js";

/** Writes the durable allocation annotation on a PVC (the only API write the extender makes). */
export interface ClaimWriter {
  annotate(namespace: string, name: string, key: string, value: string): Promise<void>;
}

/** What every handler gets: the cache, the metrics, the logger, the settings and the clock. */
export interface RouteContext {
  store: ClusterStore;
  metrics: ExtenderMetrics;
  log: Logger;
  reservationTtlMs: number;
  maxBodyBytes: number;
  writer: ClaimWriter;
  now(): number;
  ready(): boolean;
  version: string;
}
