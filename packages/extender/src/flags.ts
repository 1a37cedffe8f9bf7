import { DEFAULT_LEASE_NAMESPACE, EXTENDER_DEFAULT_PORT, parseBytes, parseDuration } from "@nls/api";
import { asText, flag, kubeconfigFlag, logLevelFlag, parseOneOf, type FlagValues } from "@nls/daemon";
import { LEASE_MODES, type LeaseMode } from "./lease.js";
import { STRATEGIES, type Strategy } from "./scoring.js";

/**
 * The extender's flags (each also read from its `NLS_*` environment variable) and their parsers. Each
 * parser throws an Error saying what was expected; the CLI reports it as a usage error.
 */

export const parseStrategy: (v: string) => Strategy = parseOneOf("strategy", STRATEGIES);
export const parseLeaseMode: (v: string) => LeaseMode = parseOneOf("agent lease mode", LEASE_MODES);

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

export const EXTENDER_FLAGS = {
  port: flag({
    flags: "--port <port>",
    help: "HTTP(S) port",
    env: "NLS_PORT",
    default: String(EXTENDER_DEFAULT_PORT),
    parse: parsePort,
  }),
  kubeconfig: kubeconfigFlag,
  strategy: flag({
    flags: "--strategy <name>",
    help: "scoring: binpack (fill nodes) or spread (even out)",
    env: "NLS_STRATEGY",
    default: "binpack",
    parse: parseStrategy,
  }),
  reservationTtl: flag({
    flags: "--reservation-ttl <duration>",
    help: "how long a tentative reservation holds space (e.g. 60s, 2m)",
    env: "NLS_RESERVATION_TTL",
    default: "60s",
    parse: parseDuration,
  }),
  maxBodyBytes: flag({
    flags: "--max-body-bytes <size>",
    help: "largest request body accepted; larger gets 413",
    env: "NLS_MAX_BODY_BYTES",
    default: "10Mi",
    parse: parseBodyLimit,
  }),
  tlsCertFile: flag({
    flags: "--tls-cert-file <path>",
    help: "serve HTTPS with this certificate",
    env: "NLS_TLS_CERT_FILE",
    parse: asText,
  }),
  tlsPrivateKeyFile: flag({
    flags: "--tls-private-key-file <path>",
    help: "private key for --tls-cert-file",
    env: "NLS_TLS_PRIVATE_KEY_FILE",
    parse: asText,
  }),
  leaseNamespace: flag({
    flags: "--lease-namespace <ns>",
    help: `namespace of the agents' Leases (default: $POD_NAMESPACE, else ${DEFAULT_LEASE_NAMESPACE})`,
    env: "NLS_LEASE_NAMESPACE",
    parse: asText,
  }),
  agentLease: flag({
    flags: "--agent-lease <mode>",
    help: "required: a node without an agent Lease fails; optional: it is trusted",
    env: "NLS_AGENT_LEASE",
    default: "required",
    parse: parseLeaseMode,
  }),
  logLevel: logLevelFlag,
};

export interface ExtenderConfig extends Omit<FlagValues<typeof EXTENDER_FLAGS>, "reservationTtl" | "leaseNamespace"> {
  reservationTtlMs: number;
  leaseNamespace: string;
}
