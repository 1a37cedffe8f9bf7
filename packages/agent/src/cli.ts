#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { DEFAULT_INIT_CONFIG_NAME, DEFAULT_LEASE_NAMESPACE, DEFAULT_LV_PREFIX } from "@nls/api";
import { Agent, DEFAULT_AGENT_CONFIG } from "./agent.js";
import { DEFAULT_DEVICE_GLOBS, DEFAULT_MOUNTINFO_PATH, DEFAULT_MOUNT_ROOT } from "./discovery/host.js";
import { execaRunner } from "./discovery/run.js";
import { parseCommandPrefix, parseDeviceGlobs, parseInterval, parseObjectName } from "./flags.js";
import { ClientNodeKube, loadKubeConfig } from "./kube/client-node.js";
import { LOG_LEVELS, createLogger, parseLogLevel, type LogLevel, type Logger } from "./log.js";
import { AgentMetrics } from "./metrics.js";
import { realHost } from "./host-port.js";
import { registerScanCommand } from "./scan.js";
import { parseListenAddress, startServer, type ListenAddress } from "./server.js";

interface DaemonOptions {
  nodeName?: string;
  kubeconfig?: string;
  interval: number;
  lvPrefix: string;
  devices: string[];
  mountRoot: string;
  mountinfo: string;
  metricsAddr: ListenAddress;
  initConfig: string;
  leaseNamespace: string;
  commandPrefix: string[];
  logLevel: LogLevel;
}

/**
 * The daemon's flags. Values stay strings while commander parses and are checked only when the daemon
 * runs: commander reads a root option's env variable for every subcommand too, and a daemon setting
 * such as a bad `NLS_INTERVAL` must not break `nls-agent scan`.
 */
interface DaemonFlag {
  key: keyof DaemonOptions;
  flags: string;
  help: string;
  env: string;
  /** Default value as a string, and how `--help` shows it. */
  default?: string;
  parse?: (value: string) => unknown;
}

const DAEMON_FLAGS: DaemonFlag[] = [
  {
    key: "nodeName",
    flags: "--node-name <name>",
    help: "this node's name (required for the daemon)",
    env: "NODE_NAME",
    parse: parseObjectName("node name"),
  },
  {
    key: "kubeconfig",
    flags: "--kubeconfig <path>",
    help: "kubeconfig file (default: in-cluster service account)",
    env: "KUBECONFIG",
  },
  {
    key: "interval",
    flags: "--interval <duration>",
    help: "time between scans (e.g. 30s, 2m); a spec change scans at once",
    env: "NLS_INTERVAL",
    default: "60s",
    parse: parseInterval,
  },
  {
    key: "lvPrefix",
    flags: "--lv-prefix <prefix>",
    help: "LVs starting with this (or csi-) are managed and count as allocatable",
    env: "NLS_LV_PREFIX",
    default: DEFAULT_LV_PREFIX,
  },
  {
    key: "devices",
    flags: "--devices <globs>",
    help: "comma-separated candidate device globs (micromatch)",
    env: "NLS_DEVICES",
    default: DEFAULT_DEVICE_GLOBS.join(","),
    parse: parseDeviceGlobs,
  },
  {
    key: "mountRoot",
    flags: "--mount-root <dir>",
    help: "mount points below this directory are reported",
    env: "NLS_MOUNT_ROOT",
    default: DEFAULT_MOUNT_ROOT,
  },
  {
    key: "mountinfo",
    flags: "--mountinfo <path>",
    help: "mountinfo to read mounts from (/proc/1/mountinfo sees the host's from a hostPID pod)",
    env: "NLS_MOUNTINFO",
    default: DEFAULT_MOUNTINFO_PATH,
  },
  {
    key: "metricsAddr",
    flags: "--metrics-addr <addr>",
    help: "listen address of /healthz, /readyz and /metrics",
    env: "NLS_METRICS_ADDR",
    default: ":9101",
    parse: parseListenAddress,
  },
  {
    key: "initConfig",
    flags: "--init-config <name>",
    help: "NodeLocalStorageInitConfig a missing NodeLocalStorage is created from",
    env: "NLS_INIT_CONFIG",
    default: DEFAULT_INIT_CONFIG_NAME,
    parse: parseObjectName("init config name"),
  },
  {
    key: "leaseNamespace",
    flags: "--lease-namespace <ns>",
    help: "namespace of the agent's Lease and Events",
    env: "POD_NAMESPACE",
    default: DEFAULT_LEASE_NAMESPACE,
    parse: parseObjectName("namespace"),
  },
  {
    key: "commandPrefix",
    flags: "--command-prefix <cmd>",
    help: "prefix for every host command, split on spaces (e.g. 'nsenter --mount=/proc/1/ns/mnt --')",
    env: "NLS_COMMAND_PREFIX",
    default: "",
    parse: parseCommandPrefix,
  },
  {
    key: "logLevel",
    flags: "--log-level <level>",
    help: `log level: ${LOG_LEVELS.join(", ")}`,
    env: "NLS_LOG_LEVEL",
    default: "info",
    parse: parseLogLevel,
  },
];

/** The daemon's options from commander's raw strings; a bad value is a usage error naming flag and source. */
function daemonOptions(cmd: Command): DaemonOptions {
  const raw = cmd.opts<Record<string, string | undefined>>();
  const out: Record<string, unknown> = {};
  for (const f of DAEMON_FLAGS) {
    const value = raw[f.key];
    if (value === undefined || !f.parse) {
      out[f.key] = value;
      continue;
    }
    try {
      out[f.key] = f.parse(value);
    } catch (err) {
      const from = cmd.getOptionValueSource(f.key) === "env" ? ` from env '${f.env}'` : "";
      cmd.error(`error: option '${f.flags}' value '${value}'${from} is invalid: ${(err as Error).message}`, {
        exitCode: 2,
      });
    }
  }
  return out as unknown as DaemonOptions;
}

/** The package version, read beside `src/` or `dist/` alike; a missing package.json is not fatal. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
      .version;
  } catch {
    return "unknown";
  }
}
const VERSION = packageVersion();

export function buildProgram(): Command {
  const program = new Command("nls-agent")
    .version(VERSION)
    .description(
      "nls node agent: keeps this node's NodeLocalStorage true (disks, LVM, selection), creates the VGs its spec asks " +
        "for without touching devices that hold data, renews its Lease and serves /healthz, /readyz and /metrics.",
    )
    // Options after `scan` belong to `scan` (it has its own --devices, --lv-prefix, …).
    .enablePositionalOptions();
  for (const f of DAEMON_FLAGS) {
    const option = new Option(f.flags, f.help).env(f.env);
    if (f.default !== undefined) option.default(f.default, f.default === "" ? "none" : f.default);
    program.addOption(option);
  }
  program.action(async (_opts: unknown, cmd: Command) => {
    const opts = daemonOptions(cmd);
    if (!opts.nodeName) cmd.error("error: --node-name (or NODE_NAME) is required to run the daemon", { exitCode: 2 });
    process.exitCode = await runDaemon(opts as DaemonOptions & { nodeName: string });
  });
  registerScanCommand(program);
  return program;
}

async function runDaemon(opts: DaemonOptions & { nodeName: string }): Promise<number> {
  const log: Logger = createLogger(opts.logLevel);
  process.on("unhandledRejection", (err) => log.error({ err: String(err) }, "unhandled rejection"));

  let kube: ClientNodeKube;
  try {
    kube = new ClientNodeKube(loadKubeConfig(opts.kubeconfig));
  } catch (err) {
    log.fatal(
      { err: (err as Error).message, kubeconfig: opts.kubeconfig ?? "in-cluster" },
      "cannot load the kubeconfig",
    );
    return 1;
  }
  const metrics = new AgentMetrics();
  const agent = new Agent({
    kube,
    host: realHost(execaRunner({ prefix: opts.commandPrefix }), {
      deviceGlobs: opts.devices,
      mountRoot: opts.mountRoot,
      mountInfoPath: opts.mountinfo,
      lvPrefix: opts.lvPrefix,
    }),
    metrics,
    log,
    config: {
      ...DEFAULT_AGENT_CONFIG,
      nodeName: opts.nodeName,
      initConfigName: opts.initConfig,
      leaseNamespace: opts.leaseNamespace,
      intervalMs: opts.interval,
    },
  });

  let server;
  try {
    server = await startServer(opts.metricsAddr, {
      isReady: () => agent.ready,
      metrics: () => metrics.text(),
      metricsContentType: metrics.contentType,
      log,
    });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, "cannot listen for /healthz and /metrics");
    return 1;
  }

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      // A second Ctrl-C means "now": the step in flight is abandoned (LVM's own locking keeps it safe).
      log.warn({ signal }, "second signal: exiting without waiting for the current step");
      process.exit(130);
    }
    log.info({ signal }, "stopping after the current step");
    stop.abort();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  log.info(
    {
      version: VERSION,
      node: opts.nodeName,
      port: server.port,
      intervalMs: opts.interval,
      devices: opts.devices,
      initConfig: opts.initConfig,
      leaseNamespace: opts.leaseNamespace,
      commandPrefix: opts.commandPrefix,
    },
    "nls-agent started",
  );
  await agent.run(stop.signal);
  await server.close();
  log.info("nls-agent stopped");
  return 0;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    console.error(`nls-agent: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
