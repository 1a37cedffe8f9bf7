import { hostname } from "node:os";
import { DEFAULT_INIT_CONFIG_NAME, DEFAULT_LEASE_NAMESPACE, DEFAULT_LV_PREFIX, parseDuration } from "@nls/api";
import { asText, flag, kubeconfigFlag, logLevelFlag, parseListenAddress, parseOneOf, switchFlag } from "@nls/daemon";
import {
  DEFAULT_DEVICE_GLOBS,
  DEFAULT_MOUNTINFO_PATH,
  DEFAULT_MOUNT_ROOT,
  DEFAULT_PROC_ROOT,
  normaliseDeviceGlobs,
} from "./discovery/host.js";

/** Where the Events about a (cluster-scoped) NLS go unless configured otherwise. */
export const DEFAULT_EVENT_NAMESPACE = "kube-system";

/**
 * The agent's flags (each also read from its environment variable) and their parsers. Each parser throws
 * an `Error` whose message says what was expected; the CLI turns it into a usage error.
 */

/** Comma-separated device globs; a glob without `/` means `/dev/<glob>`. */
export function parseDeviceGlobs(value: string): string[] {
  const globs = normaliseDeviceGlobs(value.split(","));
  if (globs.length === 0) throw new Error(`invalid device globs "${value}": expected e.g. /dev/sd*,/dev/nvme*n*`);
  return globs;
}

/** A command prefix such as `nsenter --mount=/proc/1/ns/mnt --`, split on whitespace; empty = none. */
export function parseCommandPrefix(value: string): string[] {
  return value.split(/\s+/).filter((w) => w.length > 0);
}

/** A Kubernetes object name (RFC 1123 subdomain), as Node, NLSC and namespace names are. */
export function parseObjectName(what: string): (value: string) => string {
  return (value) => {
    const v = value.trim();
    if (v.length === 0 || v.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) {
      throw new Error(`invalid ${what} "${value}": expected a lower-case DNS name (a-z, 0-9, '-', '.')`);
    }
    return v;
  };
}

/** The scan interval: a duration of at least one second (each scan runs lsblk, lvm and wipefs). */
export function parseInterval(value: string): number {
  const ms = parseDuration(value);
  if (ms < 1_000) throw new Error(`invalid interval "${value}": must be at least 1s`);
  return ms;
}

/** What the agent looks at on the host: the daemon's and `scan`'s flags alike. */
export const HOST_FLAGS = {
  devices: flag({
    flags: "--devices <globs>",
    help: "comma-separated candidate device globs (micromatch)",
    env: "NLS_DEVICES",
    default: DEFAULT_DEVICE_GLOBS.join(","),
    parse: parseDeviceGlobs,
  }),
  lvPrefix: flag({
    flags: "--lv-prefix <prefix>",
    help: "LVs starting with this (or csi-) are managed and count as allocatable",
    env: "NLS_LV_PREFIX",
    default: DEFAULT_LV_PREFIX,
    parse: asText,
  }),
  mountRoot: flag({
    flags: "--mount-root <dir>",
    help: "mount points below this directory are reported",
    env: "NLS_MOUNT_ROOT",
    default: DEFAULT_MOUNT_ROOT,
    parse: asText,
  }),
  mountinfo: flag({
    flags: "--mountinfo <path>",
    help: "mountinfo to read mounts from (/proc/1/mountinfo sees the host's from a hostPID pod)",
    env: "NLS_MOUNTINFO",
    default: DEFAULT_MOUNTINFO_PATH,
    parse: asText,
  }),
  proc: flag({
    flags: "--proc <dir>",
    help: "procfs whose processes holding a device open make it in use (/host/proc: the host's, from a pod)",
    env: "NLS_PROC",
    default: DEFAULT_PROC_ROOT,
    parse: asText,
  }),
  commandPrefix: flag({
    flags: "--command-prefix <cmd>",
    help: "prefix for every host command, split on spaces (e.g. 'nsenter --mount=/proc/1/ns/mnt --')",
    env: "NLS_COMMAND_PREFIX",
    default: "",
    parse: parseCommandPrefix,
  }),
};

/** `nls-agent` without a command: the daemon. */
export const DAEMON_FLAGS = {
  nodeName: flag({
    flags: "--node-name <name>",
    help: "this node's name (required for the daemon)",
    env: "NODE_NAME",
    parse: parseObjectName("node name"),
  }),
  kubeconfig: kubeconfigFlag,
  interval: flag({
    flags: "--interval <duration>",
    help: "time between scans (e.g. 30s, 2m); a spec change scans at once",
    env: "NLS_INTERVAL",
    default: "60s",
    parse: parseInterval,
  }),
  ...HOST_FLAGS,
  metricsAddr: flag({
    flags: "--metrics-addr <addr>",
    help: "listen address of /healthz, /readyz and /metrics",
    env: "NLS_METRICS_ADDR",
    default: ":9101",
    parse: parseListenAddress,
  }),
  initConfig: flag({
    flags: "--init-config <name>",
    help: "NodeLocalStorageInitConfig a missing NodeLocalStorage is created from",
    env: "NLS_INIT_CONFIG",
    default: DEFAULT_INIT_CONFIG_NAME,
    parse: parseObjectName("init config name"),
  }),
  leaseNamespace: flag({
    flags: "--lease-namespace <ns>",
    help: "namespace of the agent's Lease nls-agent-<node> (nls' own: its Lease rights reach nothing else)",
    env: "NLS_LEASE_NAMESPACE",
    default: DEFAULT_LEASE_NAMESPACE,
    parse: parseObjectName("namespace"),
  }),
  eventNamespace: flag({
    flags: "--event-namespace <ns>",
    help: "namespace of the Events about the NodeLocalStorage (kube-system or default; others fall back to default)",
    env: "POD_NAMESPACE",
    default: DEFAULT_EVENT_NAMESPACE,
    parse: parseObjectName("namespace"),
  }),
  logLevel: logLevelFlag,
};

/** `nls-agent scan`. */
export const SCAN_FLAGS = {
  ...HOST_FLAGS,
  spec: flag({
    flags: "--spec <file>",
    help: "YAML/JSON file: a NodeLocalStorage, a NodeLocalStorageInitConfig or a bare spec",
    parse: asText,
  }),
  seed: switchFlag("--seed", "use the embedded seed example spec (listConfig and resourceToBeInited)"),
  nodeName: flag({
    flags: "--node-name <name>",
    help: "name of the NodeLocalStorage",
    env: "NODE_NAME",
    default: hostname(),
    parse: asText,
  }),
  output: flag({
    flags: "-o, --output <format>",
    help: "output format: yaml or json",
    default: "yaml",
    parse: parseOneOf("output format", ["yaml", "json"] as const),
  }),
};
