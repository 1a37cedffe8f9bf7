import { readFileSync } from "node:fs";
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { createLogger, loadKubeConfig, StartupError, stopOnSignals } from "@nls/daemon";
import { makeInformers } from "./cache/informers.js";
import { ClusterStore } from "./cache/store.js";
import type { ExtenderConfig } from "./flags.js";
import { ExtenderMetrics } from "./metrics.js";
import { BUILD } from "./program.js";
import type { ClaimWriter } from "./routes/context.js";
import { createApp, listen, type TlsFiles } from "./server.js";

const EXPIRY_INTERVAL_MS = 5_000;
/** After SIGTERM, open requests get this long before their connections are closed. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The daemon: caches filled by informers, the HTTP routes, reservations expiring on a timer. A
 * kubeconfig or TLS files that cannot be loaded, or a port in use, stop it before it serves (exit 1);
 * SIGTERM closes the server and the watches, then it returns 0.
 */
export async function runExtender(config: ExtenderConfig): Promise<number> {
  const kc = loadKubeConfig(config.kubeconfig);
  const tls = readTls(config);
  const log = createLogger("nls-extender", config.logLevel);
  const store = new ClusterStore({
    strategy: config.strategy,
    leaseMode: config.agentLease,
    leaseNamespace: config.leaseNamespace,
  });
  const metrics = new ExtenderMetrics(store, BUILD);
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
    build: BUILD,
  });
  const server = await listen(app, config.port, undefined, tls).catch((err: unknown) => {
    throw new StartupError(`cannot listen on --port ${config.port}: ${(err as Error).message}`);
  });
  const stop = stopOnSignals(log);
  log.info(
    { ...config, port: server.port, tls: !!tls, version: BUILD.version, commit: BUILD.commit },
    "nls-extender listening",
  );
  void informers.start();
  // Reservations also expire when no request comes to expire them.
  const expiry = setInterval(() => {
    const n = store.ledger.expire(Date.now());
    if (n > 0) log.debug({ released: n }, "reservations expired");
  }, EXPIRY_INTERVAL_MS);
  expiry.unref();

  await new Promise((resolve) => stop.addEventListener("abort", resolve, { once: true }));
  clearInterval(expiry);
  const grace = setTimeout(() => {
    log.warn({ graceMs: SHUTDOWN_GRACE_MS }, "requests still open after the grace period; closing their connections");
    server.server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  await Promise.all([server.close(), informers.stop()]);
  clearTimeout(grace);
  log.info("nls-extender stopped");
  return 0;
}

function readTls(config: ExtenderConfig): TlsFiles | undefined {
  if (!config.tlsCertFile || !config.tlsPrivateKeyFile) return undefined;
  try {
    return { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsPrivateKeyFile) };
  } catch (err) {
    throw new StartupError(`cannot read the TLS certificate or key: ${(err as Error).message}`);
  }
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
