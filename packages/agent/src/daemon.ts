import { createLogger, loadKubeconfig, StartupError, stopOnSignals } from "@nls/daemon";
import { Agent, DEFAULT_AGENT_CONFIG, staleBound } from "./agent.js";
import { execaRunner } from "./discovery/run.js";
import { realHost } from "./host-port.js";
import { apiEndpoint } from "./kube/api-endpoint.js";
import { HttpKube } from "./kube/http-kube.js";
import { AgentMetrics } from "./metrics.js";
import { BUILD, type DaemonOptions } from "./program.js";
import { startServer } from "./server.js";

/**
 * The daemon: the agent's loop against the API server and this host, with /healthz, /readyz and
 * /metrics. A kubeconfig that cannot be loaded or a port in use stops it before anything runs (exit 1);
 * SIGTERM lets the current step finish, then it returns 0.
 */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const kube = new HttpKube(apiEndpoint(loadKubeconfig(opts.kubeconfig)));
  // Every line names the node: an agent's logs are read side by side with the other nodes'.
  const log = createLogger("nls-agent", opts.logLevel).child({ node: opts.nodeName });
  const metrics = new AgentMetrics({ build: BUILD });
  const agent = new Agent({
    kube,
    host: realHost(execaRunner({ prefix: opts.commandPrefix }), {
      deviceGlobs: opts.devices,
      mountRoot: opts.mountRoot,
      mountInfoPath: opts.mountinfo,
      procRoot: opts.proc,
      lvPrefix: opts.lvPrefix,
    }),
    metrics,
    log,
    config: {
      ...DEFAULT_AGENT_CONFIG,
      nodeName: opts.nodeName,
      initConfigName: opts.initConfig,
      leaseNamespace: opts.leaseNamespace,
      eventNamespace: opts.eventNamespace,
      intervalMs: opts.interval,
      staleAfterMs: staleBound(opts.interval),
    },
  });
  const server = await startServer(opts.metricsAddr, {
    isReady: () => agent.ready,
    metrics: () => metrics.text(),
    metricsContentType: metrics.contentType,
    log,
  }).catch((err: unknown) => {
    throw new StartupError(`cannot listen on --metrics-addr for /healthz and /metrics: ${(err as Error).message}`);
  });
  // A second signal exits at once; the step in flight is abandoned (LVM's own locking keeps it safe).
  const stop = stopOnSignals(log);
  log.info(
    {
      version: BUILD.version,
      commit: BUILD.commit,
      port: server.port,
      intervalMs: opts.interval,
      devices: opts.devices,
      initConfig: opts.initConfig,
      leaseNamespace: opts.leaseNamespace,
      eventNamespace: opts.eventNamespace,
      commandPrefix: opts.commandPrefix,
    },
    "nls-agent started",
  );
  await agent.run(stop);
  await server.close();
  log.info("nls-agent stopped");
  return 0;
}
