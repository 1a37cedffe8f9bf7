/**
 * A stand-in for the kubelets of the test's Node objects, for the extender's pods only: what a
 * Deployment rollout and a drain need from kubelets, so that the real Deployment, ReplicaSet and
 * disruption controllers, kube-scheduler and `kubectl drain` act on real pods.
 *
 * - A pod bound to a node (spec.nodeName) gets a "pod IP" (10.88.0.N, mapped to a loopback port for the
 *   kube-proxy stand-in) written to its status, then the built extender starts as its container would:
 *   the container's args and env from the pod spec (downward API fields resolved, `$(VAR)` expanded),
 *   with `--port` moved to a free loopback port, the debug views and the admission webhook to others
 *   (the webhook's Service routed to it while it runs: webhook-endpoints.ts), and a kubeconfig with a
 *   token of the pod's ServiceAccount.
 * - Each poll (200 ms) the process's `GET /readyz` is mirrored into the pod's Ready and ContainersReady
 *   conditions, as the kubelet's readiness probe is.
 * - A pod with a deletionTimestamp gets SIGTERM; once the process has exited the pod is deleted with
 *   grace 0 (the kubelet's final delete, preconditioned on the pod's UID).
 *
 * Where it differs from a kubelet: no containers or images, a process exits for good (no restarts),
 * probes are polled rather than on the manifest's period, the extender logs at debug level
 * (NLS_LOG_LEVEL), and nothing else of the pod spec is enforced.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type Cluster } from "./cluster.js";
import { containerCommand, type Pod as BasePod } from "./container-command.js";
import { spawnDaemon, type DaemonProcess } from "./daemons.js";
import { KubeApiError, type KubeApi } from "./kube-api.js";
import type { Backend } from "./service-proxy.js";
import { publishWebhookEndpoint, withdrawWebhookEndpoint } from "./webhook-endpoints.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** The extender's entry point in the image (deploy/'s container command), and here. */
const IMAGE_CLI = "/app/packages/extender/dist/cli.js";
const IMAGE_ENTRY_POINT = "nls-extender";
const BUILT_CLI = join(root, "packages/extender/dist/cli.js");

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}
export interface Pod extends BasePod {
  status?: BasePod["status"] & { conditions?: Condition[] };
}

export interface RunningPod {
  name: string;
  node: string;
  ip: string;
  port: number;
  process: DaemonProcess;
  ready: boolean;
  terminatingSince?: number;
  exitedAt?: number;
}

/** What happened, in order: each pod's start, readiness changes, SIGTERM, exit and final delete. */
export interface KubeletEvent {
  at: number;
  pod: string;
  node: string;
  ip: string;
  what: "started" | "ready" | "unready" | "SIGTERM" | "exited" | "deleted";
}

export interface KubeletStandIn {
  pods: Map<string, RunningPod>;
  events: KubeletEvent[];
  /** Every line every extender it ran has logged. */
  logs(): string[];
  /** The loopback port of a pod IP's extender (for the kube-proxy stand-in). */
  resolve(backend: Backend): number | undefined;
  /** The fewest pods that were ready at once between `from` and `to` (clock ms), per the events. */
  fewestReady(from: number, to: number): number;
  stop(): Promise<void>;
}

const readyzOk = async (port: number) =>
  (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))
    ?.ok === true;

export function startKubeletStandIn(
  cluster: Cluster,
  api: KubeApi,
  options: { namespace: string; labelSelector: string },
): KubeletStandIn {
  const pods = new Map<string, RunningPod>();
  const events: KubeletEvent[] = [];
  const logs: string[] = [];
  /** Every pod IP ever given, to its port: a gone pod's port refuses connections, as its address would. */
  const ports = new Map<string, number>();
  let nextIp = 1;
  let stopped = false;
  const note = (p: RunningPod, what: KubeletEvent["what"]) =>
    events.push({ at: Date.now(), pod: p.name, node: p.node, ip: p.ip, what });
  const podPath = (name: string) => `/api/v1/namespaces/${options.namespace}/pods/${name}`;

  const writeStatus = async (pod: Pod, ip: string, ready: boolean) => {
    const now = new Date().toISOString();
    const keep = (pod.status?.conditions ?? []).filter(
      (c) => !["Initialized", "ContainersReady", "Ready"].includes(c.type),
    );
    const cond = (type: string, status: boolean) => ({
      type,
      status: status ? "True" : "False",
      lastTransitionTime: now,
    });
    await api.patch(`${podPath(pod.metadata.name)}/status`, {
      status: {
        phase: "Running",
        hostIP: "127.0.0.1",
        podIP: ip,
        podIPs: [{ ip }],
        startTime: now,
        conditions: [...keep, cond("Initialized", true), cond("ContainersReady", ready), cond("Ready", ready)],
      },
    });
  };

  const start = async (pod: Pod) => {
    const container = pod.spec.containers[0]!;
    // deploy/ runs the image's entry point `nls-extender` (node with the image's flags, none today);
    // `[node, IMAGE_CLI]` is the same spelled out.
    const entry = container.command ?? [];
    const isExtender =
      (entry.length === 1 && entry[0] === IMAGE_ENTRY_POINT) || (entry[0] === "node" && entry[1] === IMAGE_CLI);
    if (!isExtender) {
      throw new Error(`${pod.metadata.name}: command ${container.command?.join(" ")} is not the extender's`);
    }
    const ip = `10.88.0.${nextIp++}`;
    const [port, debugPort] = [await freePort(), await freePort()];
    const running: RunningPod = {
      name: pod.metadata.name,
      node: pod.spec.nodeName!,
      ip,
      port,
      process: undefined as unknown as DaemonProcess,
      ready: false,
    };
    pods.set(pod.metadata.name, running);
    ports.set(ip, port);
    // The pod's IP is in its status before its container starts (downward API status.podIP).
    await writeStatus(pod, ip, false);
    const command = containerCommand(pod, ip);
    const { env } = command;
    const kubeconfig = await cluster.serviceAccountKubeconfig(pod.metadata.namespace, pod.spec.serviceAccountName!);
    const webhookPort = await freePort();
    const args = command.args
      .map((a) => (a.startsWith("--port=") ? `--port=${port}` : a))
      .map((a) => (a.startsWith("--webhook-port=") ? `--webhook-port=${webhookPort}` : a));
    // The admission webhook's Service, routed to this process as the EndpointSlice controller would
    // route it to the pod (webhook-endpoints.ts): the API server cannot reach the pod IP given above.
    const serving = args.some((a) => a.startsWith("--webhook-port="));
    if (serving) await publishWebhookEndpoint(cluster, webhookPort, `pod-${pod.metadata.name}`);
    running.process = spawnDaemon(
      cluster,
      `pod-${pod.metadata.name}`,
      [BUILT_CLI, ...args, "--kubeconfig", kubeconfig, `--debug-address=127.0.0.1:${debugPort}`],
      // Debug: a pod without local volumes passes filter with a debug line, which tells the test who
      // placed the extender's own pods.
      { ...env, NLS_LOG_LEVEL: "debug" },
      logs,
    );
    note(running, "started");
    void running.process.exited.then(async () => {
      running.exitedAt = Date.now();
      note(running, "exited");
      if (serving) await withdrawWebhookEndpoint(cluster, `pod-${pod.metadata.name}`).catch(() => undefined);
    });
  };

  const sync = async () => {
    const list = await api.get<{ items: Pod[] }>(
      `/api/v1/namespaces/${options.namespace}/pods?labelSelector=${encodeURIComponent(options.labelSelector)}`,
    );
    const seen = new Set<string>();
    for (const pod of list.items) {
      seen.add(pod.metadata.name);
      const running = pods.get(pod.metadata.name);
      if (!running) {
        if (pod.spec.nodeName && !pod.metadata.deletionTimestamp) await start(pod);
        continue;
      }
      if (pod.metadata.deletionTimestamp && running.terminatingSince === undefined) {
        running.terminatingSince = Date.now();
        note(running, "SIGTERM");
        running.process.child.kill("SIGTERM");
      }
      if (running.exitedAt !== undefined && running.terminatingSince !== undefined) {
        try {
          await api.delete(podPath(pod.metadata.name), {
            gracePeriodSeconds: 0,
            preconditions: { uid: pod.metadata.uid },
          });
        } catch (e) {
          if (!(e instanceof KubeApiError && (e.status === 404 || e.status === 409))) throw e;
        }
        continue;
      }
      const ready = running.exitedAt === undefined && (await readyzOk(running.port));
      if (ready !== running.ready) {
        running.ready = ready;
        note(running, ready ? "ready" : "unready");
        await writeStatus(pod, running.ip, ready);
      }
    }
    for (const [name, running] of pods) {
      if (seen.has(name)) continue;
      pods.delete(name);
      note(running, "deleted");
      if (running.exitedAt === undefined) running.process.child.kill("SIGTERM");
    }
  };

  const loop = (async () => {
    while (!stopped) {
      await sync().catch((e: unknown) => console.log(`# kubelet stand-in: ${String(e)}`));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  return {
    pods,
    events,
    resolve: (b) => ports.get(b.ip),
    logs: () => logs,
    fewestReady(from, to) {
      const ready = new Set<string>();
      let fewest = Number.POSITIVE_INFINITY;
      for (const e of events) {
        if (e.what === "ready") ready.add(e.pod);
        if (["unready", "SIGTERM", "exited", "deleted"].includes(e.what)) ready.delete(e.pod);
        if (e.at >= from && e.at <= to) fewest = Math.min(fewest, ready.size);
      }
      return Number.isFinite(fewest) ? fewest : ready.size;
    },
    async stop() {
      stopped = true;
      await loop;
      await Promise.all([...pods.values()].map((p) => p.process.stop()));
    },
  };
}
