import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { parseExtenderArgs, type ParsedExtenderArgs } from "@nls/api";
import type { BuildInfo, Logger } from "@nls/daemon";
import type { ClusterStore } from "../cache/store.js";
import type { Placement } from "../decide.js";
import type { ExtenderMetrics } from "../metrics.js";
import type { ReadyCheck } from "../readiness.js";
import { isPassThrough, podStorage, type PodStorage } from "../request.js";
import { rawNodeNames, type NodeNamesCache, type RawNodeNames } from "../wire-cache.js";
import { HttpError } from "./body.js";
import type { PendingPods } from "./reserve-admission.js";

/** Writes the durable allocation annotation on a PVC (the only API write the extender makes). */
export interface ClaimWriter {
  /** Resolves to the patched PVC when the API returns it. */
  annotate(namespace: string, name: string, key: string, value: string): Promise<V1PersistentVolumeClaim | void>;
}

/** What every handler gets: the cache, the metrics, the logger, the settings and the clock. */
export interface RouteContext {
  store: ClusterStore;
  metrics: ExtenderMetrics;
  log: Logger;
  reservationTtlMs: number;
  /** How filter and prioritize make the ledger agree with kube-scheduler's choice (`--placement`). */
  placement: Placement;
  maxBodyBytes: number;
  writer: ClaimWriter;
  /** The unscheduled pods of a namespace: the reserve route acts only for a claim one of them uses. */
  pods: PendingPods;
  now(): number;
  /** Why `/readyz` answers 503 (caches not synced, a standby, shutting down), or undefined when ready. */
  notReady(): string | undefined;
  /** Every readiness check, for `/readyz?verbose` (without it, the verbose view shows `notReady` alone). */
  readyChecks?(): ReadyCheck[];
  /** Why the scheduler and reserve routes answer 503 (a standby), or undefined when this replica serves. */
  notServing(): string | undefined;
  /** What GET /version answers. */
  build: BuildInfo;
}

/**
 * The decoded body of a scheduler verb and what its pod asks for; a bad body is a 400. A list the body
 * parser left undecoded (`NodeNamesCache.parseDeferring`) stays so — `raw`, with `args.nodeNames`
 * empty — only for a pod that passes through; for any other it is decoded into `args.nodeNames`.
 */
export function schedulerRequest(
  ctx: RouteContext,
  body: unknown,
  names: NodeNamesCache,
): { args: ParsedExtenderArgs; storage: PodStorage; raw?: RawNodeNames } {
  const args = parseExtenderArgs(body);
  if (!args.ok) throw new HttpError(400, `invalid ExtenderArgs: ${args.error}`);
  const storage = podStorage(args.value.pod, ctx.store);
  const raw = rawNodeNames(body);
  if (!raw) return { args: args.value, storage };
  if (isPassThrough(storage)) return { args: args.value, storage, raw };
  return {
    args: { ...args.value, nodeNames: names.decode(raw, ctx.store.nameIndex()) } as ParsedExtenderArgs,
    storage,
  };
}

/**
 * What filter computed for the last pod (each passing node's preference), so prioritize — which
 * kube-scheduler calls next, for the same pod, with the nodes filter let through — does not place
 * every node again. Valid only while the ledger has not changed and the node list is the one filter
 * answered.
 */
export class ScoreMemo {
  private pod = "";
  private version = -1;
  private names: readonly string[] = [];
  private scores: ArrayLike<number> = [];
  hits = 0;

  remember(pod: string, version: number, names: readonly string[], preferences: ArrayLike<number>): void {
    this.pod = pod;
    this.version = version;
    this.names = names;
    this.scores = preferences;
  }

  recall(pod: string, version: number, names: readonly string[]): ArrayLike<number> | undefined {
    if (pod !== this.pod || version !== this.version || names.length !== this.names.length) return undefined;
    for (let i = 0; i < names.length; i++) if (names[i] !== this.names[i]) return undefined;
    this.hits++;
    return this.scores;
  }
}
