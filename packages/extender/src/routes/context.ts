import { parseExtenderArgs, type ParsedExtenderArgs } from "@nls/api";
import type { Logger } from "pino";
import type { ClusterStore } from "../cache/store.js";
import type { ExtenderMetrics } from "../metrics.js";
import { podStorage, type PodStorage } from "../request.js";
import { HttpError } from "./body.js";

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

/** The decoded body of a scheduler verb and what its pod asks for; a bad body is a 400. */
export function schedulerRequest(ctx: RouteContext, body: unknown): { args: ParsedExtenderArgs; storage: PodStorage } {
  const args = parseExtenderArgs(body);
  if (!args.ok) throw new HttpError(400, `invalid ExtenderArgs: ${args.error}`);
  return { args: args.value, storage: podStorage(args.value.pod, ctx.store) };
}
