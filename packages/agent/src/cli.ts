#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_INIT_CONFIG_NAME, DEFAULT_LEASE_NAMESPACE, DEFAULT_LV_PREFIX } from "@nls/api";
import { Agent, DEFAULT_AGENT_CONFIG } from "./agent.js";
import { DEFAULT_DEVICE_GLOBS, DEFAULT_MOUNTINFO_PATH, DEFAULT_MOUNT_ROOT } from "./discovery/host.js";
import { execaRunner } from "./discovery/run.js";
import { parseCommandPrefix, parseDeviceGlobs, parseDuration, parseObjectName } from "./flags.js";
import { ClientNodeKube, loadKubeConfig } from "./kube/client-node.js";
import { LOG_LEVELS, createLogger, type LogLevel, type Logger } from "./log.js";
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

/** Wraps a throwing parser as a commander argument parser, so bad values become usage errors. */
const arg =
  <T>(parse: (v: string) => T) =>
  (value: string): T => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };

export function buildProgram(): Command {
  const program = new Command("nls-agent")
    .description(
      "nls node agent: keeps this node's NodeLocalStorage true (disks, LVM, selection), creates the VGs its spec asks " +
        "for without touching devices that hold data, renews its Lease and serves /healthz, /readyz and /metrics.",
    )
    // Options after `scan` belong to `scan` (it has its own --devices, --lv-prefix, …).
    .enablePositionalOptions()
    .addOption(
      new Option("--node-name <name>", "this node's name (required for the daemon)")
        .env("NODE_NAME")
        .argParser(arg(parseObjectName("node name"))),
    )
    .addOption(
      new Option("--kubeconfig <path>", "kubeconfig file (default: in-cluster service account)").env("KUBECONFIG"),
    )
    .addOption(
      new Option("--interval <duration>", "time between scans (e.g. 30s, 2m); a spec change scans at once")
        .env("NLS_INTERVAL")
        .default(DEFAULT_AGENT_CONFIG.intervalMs, "60s")
        .argParser(arg(parseDuration)),
    )
    .addOption(
      new Option("--lv-prefix <prefix>", "LVs starting with this (or csi-) are managed and count as allocatable")
        .env("NLS_LV_PREFIX")
        .default(DEFAULT_LV_PREFIX),
    )
    .addOption(
      new Option("--devices <globs>", "comma-separated candidate device globs (micromatch)")
        .env("NLS_DEVICES")
        .default(DEFAULT_DEVICE_GLOBS, DEFAULT_DEVICE_GLOBS.join(","))
        .argParser(arg(parseDeviceGlobs)),
    )
    .addOption(
      new Option("--mount-root <dir>", "mount points below this directory are reported")
        .env("NLS_MOUNT_ROOT")
        .default(DEFAULT_MOUNT_ROOT),
    )
    .addOption(
      new Option(
        "--mountinfo <path>",
        "mountinfo to read mounts from (/proc/1/mountinfo sees the host's from a hostPID pod)",
      )
        .env("NLS_MOUNTINFO")
        .default(DEFAULT_MOUNTINFO_PATH),
    )
    .addOption(
      new Option("--metrics-addr <addr>", "listen address of /healthz, /readyz and /metrics")
        .env("NLS_METRICS_ADDR")
        .default(parseListenAddress(":9101"), ":9101")
        .argParser(arg(parseListenAddress)),
    )
    .addOption(
      new Option("--init-config <name>", "NodeLocalStorageInitConfig a missing NodeLocalStorage is created from")
        .env("NLS_INIT_CONFIG")
        .default(DEFAULT_INIT_CONFIG_NAME)
        .argParser(arg(parseObjectName("init config name"))),
    )
    .addOption(
      new Option("--lease-namespace <ns>", "namespace of the agent's Lease and Events")
        .env("POD_NAMESPACE")
        .default(DEFAULT_LEASE_NAMESPACE)
        .argParser(arg(parseObjectName("namespace"))),
    )
    .addOption(
      new Option(
        "--command-prefix <cmd>",
        "prefix for every host command, split on spaces (e.g. 'nsenter --mount=/proc/1/ns/mnt --')",
      )
        .env("NLS_COMMAND_PREFIX")
        .default([], "none")
        .argParser(parseCommandPrefix),
    )
    .addOption(new Option("--log-level <level>", "log level").env("NLS_LOG_LEVEL").choices(LOG_LEVELS).default("info"))
    .action(async (opts: DaemonOptions, cmd: Command) => {
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
    if (stop.signal.aborted) return;
    log.info({ signal }, "stopping after the current step");
    stop.abort();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  log.info(
    {
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
