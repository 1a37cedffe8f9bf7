#!/usr/bin/env node
import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { KubeConfig, CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "@nls/api";
import { pino, type Logger } from "pino";
import { makeInformers } from "./cache/informers.js";
import { ClusterStore } from "./cache/store.js";
import {
  DEFAULTS,
  parseBodyLimit,
  parseLeaseMode,
  parseLogLevel,
  parsePort,
  parseStrategy,
  type ExtenderConfig,
} from "./flags.js";
import { ExtenderMetrics } from "./metrics.js";
import type { ClaimWriter } from "./routes/context.js";
import { createApp, listen } from "./server.js";

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

const usage =
  <T>(parse: (v: string) => T) =>
  (v: string): T => {
    try {
      return parse(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };

export function buildCommand(run: (config: ExtenderConfig) => Promise<void>): Command {
  return new Command("nls-extender")
    .description(
      "kube-scheduler extender: capacity-aware filter and score for node-local volumes (open-local compatible)",
    )
    .version(version)
    .addOption(
      new Option("--port <port>", "HTTP(S) port").env("NLS_PORT").default(DEFAULTS.port).argParser(usage(parsePort)),
    )
    .addOption(
      new Option("--kubeconfig <path>", "kubeconfig file (default: in-cluster, else ~/.kube/config)").env("KUBECONFIG"),
    )
    .addOption(
      new Option("--strategy <name>", "scoring: binpack (fill nodes) or spread (even out)")
        .env("NLS_STRATEGY")
        .default(DEFAULTS.strategy)
        .argParser(usage(parseStrategy)),
    )
    .addOption(
      new Option("--reservation-ttl <duration>", "how long a tentative reservation holds space (e.g. 60s, 2m)")
        .env("NLS_RESERVATION_TTL")
        .default(DEFAULTS.reservationTtl),
    )
    .addOption(
      new Option("--max-body-bytes <size>", "largest request body accepted; larger gets 413")
        .env("NLS_MAX_BODY_BYTES")
        .default(DEFAULTS.maxBodyBytes),
    )
    .addOption(new Option("--tls-cert-file <path>", "serve HTTPS with this certificate").env("NLS_TLS_CERT_FILE"))
    .addOption(
      new Option("--tls-private-key-file <path>", "private key for --tls-cert-file").env("NLS_TLS_PRIVATE_KEY_FILE"),
    )
    .addOption(
      new Option(
        "--lease-namespace <ns>",
        "namespace of the agents' Leases (default: $POD_NAMESPACE, else kube-system)",
      ).env("NLS_LEASE_NAMESPACE"),
    )
    .addOption(
      new Option("--agent-lease <mode>", "required: a node without an agent Lease fails; optional: it is trusted")
        .env("NLS_AGENT_LEASE")
        .default(DEFAULTS.agentLease)
        .argParser(usage(parseLeaseMode)),
    )
    .addOption(
      new Option("--log-level <level>", "trace|debug|info|warn|error|fatal|silent")
        .env("NLS_LOG_LEVEL")
        .default(DEFAULTS.logLevel)
        .argParser(usage(parseLogLevel)),
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const parse = <T>(name: string, fn: (v: string) => T): T => {
        try {
          return fn(String(opts[name]));
        } catch (e) {
          cmd.error(
            `error: option '--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}': ${(e as Error).message}`,
          );
        }
      };
      const cert = opts.tlsCertFile as string | undefined;
      const key = opts.tlsPrivateKeyFile as string | undefined;
      if (!!cert !== !!key) cmd.error("error: --tls-cert-file and --tls-private-key-file go together");
      await run({
        port: opts.port as number,
        kubeconfig: opts.kubeconfig as string | undefined,
        strategy: opts.strategy as ExtenderConfig["strategy"],
        reservationTtlMs: parse("reservationTtl", parseDuration),
        maxBodyBytes: parse("maxBodyBytes", parseBodyLimit),
        tlsCertFile: cert,
        tlsPrivateKeyFile: key,
        leaseNamespace:
          (opts.leaseNamespace as string | undefined) || process.env.POD_NAMESPACE || DEFAULTS.leaseNamespace,
        agentLease: opts.agentLease as ExtenderConfig["agentLease"],
        logLevel: opts.logLevel as ExtenderConfig["logLevel"],
      });
    });
}

/** Throws an Error that names the file and the cause (not client-node's stack trace) when it cannot load. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (e) {
    throw new Error(`cannot load kubeconfig ${path ?? "(default)"}: ${(e as Error).message}`);
  }
  return kc;
}

function kubeWriter(kc: KubeConfig): ClaimWriter {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async annotate(namespace, name, key, value) {
      await core.patchNamespacedPersistentVolumeClaim(
        { namespace, name, body: { metadata: { annotations: { [key]: value } } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    },
  };
}

const EXPIRY_INTERVAL_MS = 5_000;

export async function runExtender(config: ExtenderConfig, log: Logger): Promise<void> {
  const kc = loadKubeConfig(config.kubeconfig);
  const store = new ClusterStore({
    strategy: config.strategy,
    leaseMode: config.agentLease,
    leaseNamespace: config.leaseNamespace,
  });
  const metrics = new ExtenderMetrics(store);
  const informers = makeInformers(kc, store, log);
  const app = createApp({
    store,
    metrics,
    log,
    reservationTtlMs: config.reservationTtlMs,
    maxBodyBytes: config.maxBodyBytes,
    writer: kubeWriter(kc),
    now: Date.now,
    ready: informers.synced,
    version,
  });
  const tls =
    config.tlsCertFile && config.tlsPrivateKeyFile
      ? { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsPrivateKeyFile) }
      : undefined;
  const server = await listen(app, config.port, undefined, tls);
  log.info({ ...config, port: server.port, tls: !!tls, version }, "nls-extender listening");
  void informers.start();
  // Reservations also expire when no request comes to expire them.
  const expiry = setInterval(() => {
    const n = store.ledger.expire(Date.now());
    if (n > 0) log.debug({ released: n }, "reservations expired");
  }, EXPIRY_INTERVAL_MS);
  expiry.unref();

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    clearInterval(expiry);
    void Promise.all([server.close(), informers.stop()]).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

export function createLogger(level: string): Logger {
  return pino({
    name: "nls-extender",
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  await buildCommand(async (config) => {
    const log = createLogger(config.logLevel);
    process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
    try {
      await runExtender(config, log);
    } catch (err) {
      log.fatal({ err: (err as Error).message }, "nls-extender cannot start");
      process.exit(1);
    }
  }).parseAsync(process.argv);
}
