import {
  DEFAULT_LEASE_NAMESPACE,
  EXTENDER_DEBUG_PORT,
  EXTENDER_DEFAULT_PORT,
  parseBytes,
  parseDuration,
} from "@nls/api";
import {
  asText,
  flag,
  kubeconfigFlag,
  logLevelFlag,
  parseOneOf,
  switchFlag,
  type FlagValues,
  parseListenAddress,
} from "@nls/daemon";
import { AUTHORIZATION_MODES, type AuthorizationMode } from "./auth/access.js";
import { PLACEMENTS, type Placement } from "./decide.js";
import { LEASE_MODES, type LeaseMode } from "./lease.js";
import { STRATEGIES, type Strategy } from "./scoring.js";

/**
 * The extender's flags (each also read from its `NLS_*` environment variable) and their parsers. Each
 * parser throws an Error saying what was expected; the CLI reports it as a usage error.
 */

export const parseStrategy: (v: string) => Strategy = parseOneOf("strategy", STRATEGIES);
export const parsePlacement: (v: string) => Placement = parseOneOf("placement", PLACEMENTS);
export const WEBHOOK_CERTIFICATE_SOURCES = ["secret", "files"] as const;
export type WebhookCertificateSource = (typeof WEBHOOK_CERTIFICATE_SOURCES)[number];
export const parseWebhookCertificateSource: (v: string) => WebhookCertificateSource = parseOneOf(
  "webhook certificate source",
  WEBHOOK_CERTIFICATE_SOURCES,
);
export const parseLeaseMode: (v: string) => LeaseMode = parseOneOf("agent lease mode", LEASE_MODES);
export const parseAuthorizationMode: (v: string) => AuthorizationMode = parseOneOf(
  "authorization mode",
  AUTHORIZATION_MODES,
);

/** A yes/no switch given as a value (flag or environment variable). */
export function parseBoolean(value: string): boolean {
  if (/^(true|1|yes)$/i.test(value.trim())) return true;
  if (/^(false|0|no)$/i.test(value.trim())) return false;
  throw new Error(`invalid boolean "${value}": expected true or false`);
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 65535) {
    throw new Error(`invalid port "${value}": expected 1..65535`);
  }
  return n;
}

/** A comma-separated list of object names (empty: none); each must be a DNS subdomain name. */
export function parseNames(value: string): string[] {
  const names = value
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  for (const n of names) {
    if (n.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n)) {
      throw new Error(`invalid name "${n}": expected a lowercase DNS subdomain name`);
    }
  }
  return [...new Set(names)];
}

/** A duration that may also be `0` (none). */
export function parseDelay(value: string): number {
  return value.trim() === "0" ? 0 : parseDuration(value);
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
  placement: flag({
    flags: "--placement <mode>",
    help:
      "decide: filter answers a pod with new local volumes with the one node it holds them on; " +
      "score: every node that fits passes and prioritize scores the held node 10, others 0",
    env: "NLS_PLACEMENT",
    default: "decide",
    parse: parsePlacement,
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
    // kube-scheduler with nodeCacheCapable: false sends whole Node objects: about 20 MiB at 5,000 nodes.
    help: "largest request body accepted; larger gets 413",
    env: "NLS_MAX_BODY_BYTES",
    default: "64Mi",
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
  clientCaFile: flag({
    flags: "--client-ca-file <path>",
    help: "HTTPS: ask clients for a certificate; one this CA signed is an identity (CN user, O groups)",
    env: "NLS_CLIENT_CA_FILE",
    parse: asText,
  }),
  authenticationTokenWebhook: flag({
    flags: "--authentication-token-webhook <bool>",
    help: "bearer tokens are identities when a TokenReview accepts them",
    env: "NLS_AUTHENTICATION_TOKEN_WEBHOOK",
    default: "false",
    parse: parseBoolean,
  }),
  authorizationMode: flag({
    flags: "--authorization-mode <mode>",
    help: "AlwaysAllow: anyone may call; Webhook: scheduler verbs and reserve need an identity a SubjectAccessReview allows",
    env: "NLS_AUTHORIZATION_MODE",
    default: "AlwaysAllow",
    parse: parseAuthorizationMode,
  }),
  reservePort: flag({
    flags: "--reserve-port <port>",
    help: "also serve the reserve route alone, over plain HTTP and without credentials, on this port (open-local's CSI driver)",
    env: "NLS_RESERVE_PORT",
    parse: parsePort,
  }),
  webhookPort: flag({
    flags: "--webhook-port <port>",
    help: "also serve the mutating admission webhook that marks pods with local storage, over HTTPS, on this port",
    env: "NLS_WEBHOOK_PORT",
    parse: parsePort,
  }),
  webhookCertificate: flag({
    flags: "--webhook-certificate <source>",
    help:
      "where the webhook's serving certificate comes from: secret (the extender issues it into --webhook-secret, " +
      "renews it and writes its CA into --webhook-configuration) or files (--webhook-tls-cert-file, e.g. cert-manager's)",
    env: "NLS_WEBHOOK_CERTIFICATE",
    default: "secret",
    parse: parseWebhookCertificateSource,
  }),
  webhookSecret: flag({
    flags: "--webhook-secret <name>",
    help: "with --webhook-certificate=secret: the Secret (in the extender's namespace, shipped empty) holding the webhook's CA and serving pair",
    env: "NLS_WEBHOOK_SECRET",
    default: "nls-extender-webhook-tls",
    parse: asText,
  }),
  webhookConfiguration: flag({
    flags: "--webhook-configuration <name>",
    help: "with --webhook-certificate=secret: the MutatingWebhookConfiguration whose caBundle gets the Secret's CAs",
    env: "NLS_WEBHOOK_CONFIGURATION",
    default: "nls-local-storage-request",
    parse: asText,
  }),
  webhookService: flag({
    flags: "--webhook-service <name>",
    help: "with --webhook-certificate=secret: the Service the API server calls; the certificate names <name>.<namespace>.svc",
    env: "NLS_WEBHOOK_SERVICE",
    default: "nls-extender-webhook",
    parse: asText,
  }),
  webhookCaLifetime: flag({
    flags: "--webhook-ca-lifetime <duration>",
    help: "with --webhook-certificate=secret: how long an issued CA is valid; a new one is made with a third left",
    env: "NLS_WEBHOOK_CA_LIFETIME",
    default: "8760h",
    parse: parseDuration,
  }),
  webhookCertificateLifetime: flag({
    flags: "--webhook-certificate-lifetime <duration>",
    help: "with --webhook-certificate=secret: how long an issued serving certificate is valid; renewed with a third left",
    env: "NLS_WEBHOOK_CERTIFICATE_LIFETIME",
    default: "2160h",
    parse: parseDuration,
  }),
  webhookTlsCertFile: flag({
    flags: "--webhook-tls-cert-file <path>",
    help: "with --webhook-certificate=files: the webhook port's serving certificate, read again every 10s (the API server verifies it against the webhook's caBundle)",
    env: "NLS_WEBHOOK_TLS_CERT_FILE",
    parse: asText,
  }),
  webhookTlsPrivateKeyFile: flag({
    flags: "--webhook-tls-private-key-file <path>",
    help: "private key for --webhook-tls-cert-file",
    env: "NLS_WEBHOOK_TLS_PRIVATE_KEY_FILE",
    parse: asText,
  }),
  debugAddress: flag({
    flags: "--debug-address <addr>",
    help: "listen address of the debug views (GET /cache); loopback unless you widen it",
    env: "NLS_DEBUG_ADDRESS",
    default: `127.0.0.1:${EXTENDER_DEBUG_PORT}`,
    parse: parseListenAddress,
  }),
  leaseNamespace: flag({
    flags: "--lease-namespace <ns>",
    help: "namespace of the agents' Leases nls-agent-<node>",
    env: "NLS_LEASE_NAMESPACE",
    default: DEFAULT_LEASE_NAMESPACE,
    parse: asText,
  }),
  agentLease: flag({
    flags: "--agent-lease <mode>",
    help: "required: a node without an agent Lease fails; optional: it is trusted",
    env: "NLS_AGENT_LEASE",
    default: "required",
    parse: parseLeaseMode,
  }),
  leaderElect: switchFlag(
    "--leader-elect",
    "run as one of several replicas: only the holder of the leader Lease serves, the others stand by (readyz 503)",
  ),
  leaderElectLeaseDuration: flag({
    flags: "--leader-elect-lease-duration <duration>",
    help: "how long standbys wait after the leader's last renewal before taking over",
    env: "NLS_LEADER_ELECT_LEASE_DURATION",
    default: "15s",
    parse: parseDuration,
  }),
  leaderElectRenewDeadline: flag({
    flags: "--leader-elect-renew-deadline <duration>",
    help: "the leader stops serving when it has not renewed for this long (below the lease duration)",
    env: "NLS_LEADER_ELECT_RENEW_DEADLINE",
    default: "10s",
    parse: parseDuration,
  }),
  leaderElectRetryPeriod: flag({
    flags: "--leader-elect-retry-period <duration>",
    help: "how often each replica reads (and the leader renews) the Lease",
    env: "NLS_LEADER_ELECT_RETRY_PERIOD",
    default: "2s",
    parse: parseDuration,
  }),
  leaderElectResourceName: flag({
    flags: "--leader-elect-resource-name <name>",
    help: "name of the leader Lease",
    env: "NLS_LEADER_ELECT_RESOURCE_NAME",
    default: "nls-extender",
    parse: asText,
  }),
  leaderElectResourceNamespace: flag({
    flags: "--leader-elect-resource-namespace <ns>",
    help: "namespace of the leader Lease (default: $POD_NAMESPACE, else kube-system)",
    env: "NLS_LEADER_ELECT_RESOURCE_NAMESPACE",
    parse: asText,
  }),
  leaderEndpointSlices: flag({
    flags: "--leader-endpoint-slices <names>",
    help:
      "EndpointSlices (comma-separated, in the leader Lease's namespace) the leader points at --pod-ip before it " +
      "serves and every retry period while it leads: its selector-less Services then route to it alone",
    env: "NLS_LEADER_ENDPOINT_SLICES",
    default: "",
    parse: parseNames,
  }),
  podIp: flag({
    flags: "--pod-ip <ip>",
    help: "this replica's address in the leader's EndpointSlices (the pod's status.podIP)",
    env: "POD_IP",
    parse: asText,
  }),
  podName: flag({
    flags: "--pod-name <name>",
    help: "this replica's pod, named in the leader's endpoint (targetRef) and its election identity",
    env: "POD_NAME",
    parse: asText,
  }),
  nodeName: flag({
    flags: "--node-name <name>",
    help: "the node of this replica's pod, named in the leader's endpoint",
    env: "NODE_NAME",
    parse: asText,
  }),
  shutdownDelay: flag({
    flags: "--shutdown-delay <duration>",
    help: "after SIGTERM, how long to keep serving while reporting not ready, before closing and releasing the Lease (0: none)",
    env: "NLS_SHUTDOWN_DELAY",
    default: "5s",
    parse: parseDelay,
  }),
  logLevel: logLevelFlag,
};

/** Leader election as the daemon runs it (`enabled` false: this replica always serves). */
export interface LeaderElectionConfig {
  enabled: boolean;
  /** The leader's EndpointSlices (empty: none written). */
  endpointSlices: string[];
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

type ElectionFlags =
  | "leaderElect"
  | "leaderElectLeaseDuration"
  | "leaderElectRenewDeadline"
  | "leaderElectRetryPeriod"
  | "leaderElectResourceName"
  | "leaderElectResourceNamespace"
  | "leaderEndpointSlices";

export interface ExtenderConfig extends Omit<
  FlagValues<typeof EXTENDER_FLAGS>,
  "reservationTtl" | "shutdownDelay" | ElectionFlags
> {
  reservationTtlMs: number;
  shutdownDelayMs: number;
  leaderElection: LeaderElectionConfig;
}
