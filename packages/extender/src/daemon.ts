import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { createLogger, StartupError, stopOnSignals, type Logger } from "@nls/daemon";
import { loadKubeConfig } from "@nls/daemon/client-node";
import { makeInformers } from "./cache/informers.js";
import { notReadyReason, readinessChecks } from "./readiness.js";
import { ClusterStore } from "./cache/store.js";
import type { ExtenderConfig } from "./flags.js";
import { LeaderElector } from "./leader/elector.js";
import { kubeLeaseStore } from "./leader/lease-store.js";
import { LeaderEndpoints } from "./leader/leader-endpoints.js";
import { kubeSliceStore } from "./leader/endpoint-slice-store.js";
import { kubePendingPods } from "./kube/pending-pods.js";
import { ExtenderMetrics } from "./metrics.js";
import { BUILD } from "./program.js";
import { Access } from "./auth/access.js";
import { kubeReviews } from "./auth/kube-reviews.js";
import type { ClaimWriter, RouteContext } from "./routes/context.js";
import {
  CERTIFICATE_LATER,
  createApp,
  createDebugApp,
  createReserveApp,
  createWebhookApp,
  listen,
  type RunningServer,
} from "./server.js";
import { checkIntervalMs } from "./webhook-certificate/plan.js";
import { kubeBundleStore, kubeSecretStore } from "./webhook-certificate/kube-stores.js";
import { WebhookCertificateKeeper } from "./webhook-certificate/keeper.js";
import { readTls, TlsReloader, type TlsMaterial, type TlsPaths } from "./tls/reloading-tls.js";

const EXPIRY_INTERVAL_MS = 5_000;
/** How often the TLS files are read again (a renewed Secret reaches the pod within about a minute). */
const TLS_CHECK_INTERVAL_MS = 10_000;
/** After SIGTERM, open requests get this long before their connections are closed. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The daemon: caches filled by informers, the HTTP routes, reservations expiring on a timer, and with
 * `--leader-elect` the election that decides whether this replica serves. A kubeconfig or TLS files
 * that cannot be loaded, or a port in use, stop it before it serves (exit 1).
 *
 * With `--leader-endpoint-slices` the leader points those EndpointSlices at `--pod-ip` after each
 * acquisition, and serves only once they name it; it re-asserts them at every renewal.
 *
 * SIGTERM: readyz turns 503 at once (the Deployment and the PodDisruptionBudget count this replica
 * gone) while a leader keeps answering for `--shutdown-delay`; then the server closes (open requests
 * finish, up to a grace period), the leader releases its Lease so a standby takes over at its next
 * read and rewrites the slices, and it returns 0.
 */
export async function runExtender(config: ExtenderConfig): Promise<number> {
  const kc = loadKubeConfig(config.kubeconfig);
  const tls = readTlsFiles(tlsPaths(config));
  const webhookTls = readTlsFiles(webhookTlsPaths(config));
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
        `${config.podName ?? hostname()}_${randomUUID()}`,
        election,
        log,
      )
    : undefined;
  const endpoints =
    elector && election.endpointSlices.length > 0
      ? new LeaderEndpoints(
          kubeSliceStore(kc, election.namespace, election.renewDeadlineMs),
          election.endpointSlices,
          {
            ip: config.podIp!,
            podName: config.podName,
            podNamespace: process.env.POD_NAMESPACE,
            nodeName: config.nodeName,
          },
          log,
          () => elector.leading(),
        )
      : undefined;
  if (elector && endpoints) elector.onLeading = (term) => endpoints.publishInBackground(term);
  let stopping = false;
  // A standby keeps its caches (and so the ledger's durable part) current: on taking over it serves
  // once the Services route to it. The old leader's tentative reservations lived in its memory and are lost.
  const notServing = () => elector?.standbyReason() ?? endpoints?.problem(elector?.leadingTerm());
  // Ready means "could serve if it led": caches synced and watches live. A stale cache would decide
  // on capacity it no longer sees. A standby is ready, so rollouts and drains can count on it.
  const role = () => (elector ? (notServing() ?? "leader") : undefined);
  const readyChecks = () => readinessChecks({ stopping, role: role(), feeds: informers.health(), now: Date.now() });
  metrics.observeReadiness(() => notReadyReason(readyChecks()) === undefined);
  metrics.observeServing(() => notServing() === undefined);
  const ctx: RouteContext = {
    store,
    metrics,
    log,
    reservationTtlMs: config.reservationTtlMs,
    placement: config.placement,
    maxBodyBytes: config.maxBodyBytes,
    writer: kubeWriter(kc),
    pods: kubePendingPods(kc),
    now: Date.now,
    notReady: () => notReadyReason(readyChecks()),
    readyChecks,
    notServing,
    build: BUILD,
  };
  const access = new Access({
    mode: config.authorizationMode,
    tokenReview: config.authenticationTokenWebhook,
    reviews: kubeReviews(kc),
    now: Date.now,
  });
  const listenOn = (
    what: string,
    app: Parameters<typeof listen>[0],
    port: number,
    host?: string,
    material?: TlsMaterial | typeof CERTIFICATE_LATER,
  ): Promise<RunningServer> =>
    listen(app, port, host, material).catch((err: unknown) => {
      throw new StartupError(`cannot listen on ${what} ${port}: ${(err as Error).message}`);
    });
  const server = await listenOn("--port", createApp(ctx, access), config.port, undefined, tls);
  const servers: RunningServer[] = [server];
  if (config.reservePort !== undefined) {
    servers.push(await listenOn("--reserve-port", createReserveApp(ctx), config.reservePort));
  }
  // Served by every replica, standbys too (the decision needs the caches, not the ledger), so the
  // webhook stays up through a failover: its Service publishes replicas that are not ready. With
  // --webhook-certificate=secret the port listens at once and serves once the keeper loaded a pair.
  const keepsCertificate = config.webhookPort !== undefined && config.webhookCertificate === "secret";
  const webhook =
    config.webhookPort !== undefined
      ? await listenOn(
          "--webhook-port",
          createWebhookApp(ctx),
          config.webhookPort,
          undefined,
          keepsCertificate ? CERTIFICATE_LATER : webhookTls,
        )
      : undefined;
  if (webhook) servers.push(webhook);
  const keeper = keepsCertificate ? certificateKeeper(kc, config, webhook!, metrics, log) : undefined;
  // Loopback by default: the ledger names every pending claim of every namespace.
  const debug = config.debugAddress;
  servers.push(await listenOn("--debug-address", createDebugApp(ctx), debug.port, debug.host));
  const reloaders = [
    reloaderFor(tlsPaths(config), tls, server, log),
    reloaderFor(webhookTlsPaths(config), webhookTls, webhook, log),
  ].filter((r) => r !== undefined);
  const tlsCheck =
    reloaders.length > 0 ? setInterval(() => reloaders.forEach((r) => r.check()), TLS_CHECK_INTERVAL_MS) : undefined;
  tlsCheck?.unref();
  const stop = stopOnSignals(log);
  log.info(
    {
      ...config,
      port: server.port,
      tls: !!tls,
      clientCertificates: !!tls?.ca,
      webhookPort: webhook?.port,
      debugPort: servers.at(-1)!.port,
      version: BUILD.version,
      commit: BUILD.commit,
    },
    "nls-extender listening",
  );
  void informers.start();
  elector?.start();
  const keeping = keeper?.start();
  // Reservations also expire when no request comes to expire them.
  const expiry = setInterval(() => {
    const n = store.expire(Date.now());
    if (n > 0) log.debug({ released: n }, "reservations expired");
  }, EXPIRY_INTERVAL_MS);
  expiry.unref();

  await new Promise((resolve) => stop.addEventListener("abort", resolve, { once: true }));
  stopping = true;
  if (config.shutdownDelayMs > 0) {
    log.info({ shutdownDelayMs: config.shutdownDelayMs }, "not ready; still answering for the shutdown delay");
    await sleep(config.shutdownDelayMs);
  }
  clearInterval(expiry);
  clearInterval(tlsCheck);
  keeping?.stop();
  const grace = setTimeout(() => {
    log.warn({ graceMs: SHUTDOWN_GRACE_MS }, "requests still open after the grace period; closing their connections");
    for (const s of servers) s.server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  await Promise.all(servers.map((s) => s.close()));
  clearTimeout(grace);
  // Released only after the last answer: a standby taking over earlier could decide alongside us.
  await endpoints?.settled();
  await Promise.all([elector?.stop(), informers.stop()]);
  log.info("nls-extender stopped");
  return 0;
}

function tlsPaths(config: ExtenderConfig): TlsPaths | undefined {
  if (!config.tlsCertFile || !config.tlsPrivateKeyFile) return undefined;
  return { certFile: config.tlsCertFile, keyFile: config.tlsPrivateKeyFile, clientCaFile: config.clientCaFile };
}

function webhookTlsPaths(config: ExtenderConfig): TlsPaths | undefined {
  if (!config.webhookTlsCertFile || !config.webhookTlsPrivateKeyFile) return undefined;
  return { certFile: config.webhookTlsCertFile, keyFile: config.webhookTlsPrivateKeyFile };
}

function reloaderFor(
  paths: TlsPaths | undefined,
  material: TlsMaterial | undefined,
  server: RunningServer | undefined,
  log: Logger,
): TlsReloader | undefined {
  return paths && material && server ? new TlsReloader(paths, material, (m) => server.setTls(m), log) : undefined;
}

function readTlsFiles(paths: TlsPaths | undefined): TlsMaterial | undefined {
  if (!paths) return undefined;
  try {
    return readTls(paths);
  } catch (err) {
    throw new StartupError(`cannot read the TLS certificate, key or client CA: ${(err as Error).message}`);
  }
}

function kubeWriter(kc: KubeConfig): ClaimWriter {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async annotate(namespace, name, key, value) {
      return core.patchNamespacedPersistentVolumeClaim(
        { namespace, name, body: { metadata: { annotations: { [key]: value } } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    },
  };
}

/** How long one API call of the certificate keeper may take. */
const CERTIFICATE_CALL_TIMEOUT_MS = 10_000;

/**
 * The webhook's certificate kept in its Secret (webhook-certificate/keeper.ts), one round at start and
 * then every check interval. `stop()` starts no more rounds and does not wait for one in progress: its
 * writes are resourceVersion-checked, so abandoning it is safe, and waiting on an unreachable API
 * server would hold up the release of the leader's Lease.
 */
function certificateKeeper(
  kc: KubeConfig,
  config: ExtenderConfig,
  webhook: RunningServer,
  metrics: ExtenderMetrics,
  log: Logger,
): { start(): { stop(): void } } {
  const namespace = process.env.POD_NAMESPACE || "kube-system";
  const lifetimes = { caMs: config.webhookCaLifetime, servingMs: config.webhookCertificateLifetime };
  const service = `${config.webhookService}.${namespace}.svc`;
  const keeper = new WebhookCertificateKeeper({
    secret: kubeSecretStore(kc, namespace, config.webhookSecret, CERTIFICATE_CALL_TIMEOUT_MS),
    bundle: config.webhookConfiguration
      ? kubeBundleStore(kc, config.webhookConfiguration, CERTIFICATE_CALL_TIMEOUT_MS)
      : undefined,
    dnsNames: [service, `${service}.cluster.local`],
    lifetimes,
    now: Date.now,
    log,
    serve: (material) => webhook.setTls(material),
    metrics: {
      failed: (step) => metrics.webhookCertificateFailures.inc({ step }),
      issued: (what) => metrics.webhookCertificatesIssued.inc({ what }),
      serving: (notAfterMs) => metrics.webhookCertificateExpiry.set(notAfterMs / 1000),
    },
  });
  return {
    start() {
      // One round at a time: a slow API server must not stack rounds up.
      let round: Promise<void> | undefined;
      const next = () => {
        round ??= keeper.sync().finally(() => (round = undefined));
      };
      next();
      const timer = setInterval(next, checkIntervalMs(lifetimes, TLS_CHECK_INTERVAL_MS));
      timer.unref();
      return { stop: () => clearInterval(timer) };
    },
  };
}
