import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { createLogger, loadKubeConfig, StartupError, stopOnSignals } from "@nls/daemon";
import { makeInformers } from "./cache/informers.js";
import { notReadyReason, readinessChecks } from "./readiness.js";
import { ClusterStore } from "./cache/store.js";
import type { ExtenderConfig } from "./flags.js";
import { LeaderElector } from "./leader/elector.js";
import { kubeLeaseStore } from "./leader/lease-store.js";
import { kubePendingPods } from "./kube/pending-pods.js";
import { ExtenderMetrics } from "./metrics.js";
import { BUILD } from "./program.js";
import type { ClaimWriter } from "./routes/context.js";
import { createApp, listen, type TlsFiles } from "./server.js";

const EXPIRY_INTERVAL_MS = 5_000;
/** After SIGTERM, open requests get this long before their connections are closed. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The daemon: caches filled by informers, the HTTP routes, reservations expiring on a timer, and with
 * `--leader-elect` the election that decides whether this replica serves. A kubeconfig or TLS files
 * that cannot be loaded, or a port in use, stop it before it serves (exit 1).
 *
 * SIGTERM: readyz turns 503 at once while the routes keep answering for `--shutdown-delay`, so the
 * Service drops this replica before it stops; then the server closes (open requests finish, up to a
 * grace period), the leader releases its Lease so a standby takes over at its next read, and it
 * returns 0.
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
  const metrics = new ExtenderMetrics(store, BUILD, { defaultMetrics: true });
  const informers = makeInformers(kc, store, log, { onFailure: (kind) => metrics.watchFailures.inc({ kind }) });
  metrics.observeFeeds(() => informers.health(), Date.now);
  const election = config.leaderElection;
  const elector = election.enabled
    ? new LeaderElector(
        kubeLeaseStore(kc, election.namespace, election.name, election.renewDeadlineMs),
        `${hostname()}_${randomUUID()}`,
        election,
        log,
      )
    : undefined;
  let stopping = false;
  // A standby keeps its caches (and so the ledger's durable part) current: on taking over it serves
  // at once. The tentative reservations of the old leader lived only in its memory and are lost.
  const notServing = () => elector?.standbyReason();
  // Unready while a cache is blind too: a stale cache would decide on capacity it no longer sees.
  const readyChecks = () =>
    readinessChecks({ stopping, standby: notServing(), feeds: informers.health(), now: Date.now() });
  metrics.observeReadiness(() => notReadyReason(readyChecks()) === undefined);
  const app = createApp({
    store,
    metrics,
    log,
    reservationTtlMs: config.reservationTtlMs,
    maxBodyBytes: config.maxBodyBytes,
    writer: kubeWriter(kc),
    pods: kubePendingPods(kc),
    now: Date.now,
    notReady: () => notReadyReason(readyChecks()),
    readyChecks,
    notServing,
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
  elector?.start();
  // Reservations also expire when no request comes to expire them.
  const expiry = setInterval(() => {
    const n = store.ledger.expire(Date.now());
    if (n > 0) log.debug({ released: n }, "reservations expired");
  }, EXPIRY_INTERVAL_MS);
  expiry.unref();

  await new Promise((resolve) => stop.addEventListener("abort", resolve, { once: true }));
  stopping = true;
  if (config.shutdownDelayMs > 0) {
    log.info({ shutdownDelayMs: config.shutdownDelayMs }, "not ready; serving until the Service drops this replica");
    await sleep(config.shutdownDelayMs);
  }
  clearInterval(expiry);
  const grace = setTimeout(() => {
    log.warn({ graceMs: SHUTDOWN_GRACE_MS }, "requests still open after the grace period; closing their connections");
    server.server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  await server.close();
  clearTimeout(grace);
  // Released only after the last answer: a standby taking over earlier could decide alongside us.
  await Promise.all([elector?.stop(), informers.stop()]);
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
