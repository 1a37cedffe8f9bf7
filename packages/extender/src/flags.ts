import { DEFAULT_LEASE_NAMESPACE, EXTENDER_DEFAULT_PORT, parseBytes } from "@nls/api";
import { LEASE_MODES, type LeaseMode } from "./lease.js";
import { STRATEGIES, type Strategy } from "./scoring.js";

/**
 * Flag value parsers (also applied to the `NLS_*` environment variables). Each throws an Error saying
 * what was expected; the CLI reports it as a usage error.
 */

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const oneOf =
  <T extends string>(what: string, values: readonly T[]) =>
  (value: string): T => {
    if ((values as readonly string[]).includes(value)) return value as T;
    throw new Error(`invalid ${what} "${value}": expected one of ${values.join(", ")}`);
  };

export const parseStrategy: (v: string) => Strategy = oneOf("strategy", STRATEGIES);
export const parseLeaseMode: (v: string) => LeaseMode = oneOf("agent lease mode", LEASE_MODES);
export const parseLogLevel: (v: string) => LogLevel = oneOf("log level", LOG_LEVELS);

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 65535) {
    throw new Error(`invalid port "${value}": expected 1..65535`);
  }
  return n;
}

/** A byte size as a Kubernetes quantity (`10Mi`, `1048576`), at least 1 KiB. */
export function parseBodyLimit(value: string): number {
  let bytes: number;
  try {
    bytes = parseBytes(value.trim());
  } catch (e) {
    throw new Error(`invalid size "${value}": ${(e as Error).message}`);
  }
  if (bytes < 1024) throw new Error(`invalid size "${value}": must be at least 1Ki`);
  return bytes;
}

export interface ExtenderConfig {
  port: number;
  kubeconfig?: string;
  strategy: Strategy;
  reservationTtlMs: number;
  maxBodyBytes: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  leaseNamespace: string;
  agentLease: LeaseMode;
  logLevel: LogLevel;
}

export const DEFAULTS = {
  port: EXTENDER_DEFAULT_PORT,
  strategy: "binpack" as Strategy,
  reservationTtl: "60s",
  maxBodyBytes: "10Mi",
  leaseNamespace: DEFAULT_LEASE_NAMESPACE,
  agentLease: "required" as LeaseMode,
  logLevel: "info" as LogLevel,
};
