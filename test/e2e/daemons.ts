/**
 * The built nls daemons as processes against a test control plane, each with the credentials deploy/
 * gives it: the extender as its ServiceAccount, an agent with a token bound to its Node object.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { repositoryImageNodeFlags } from "@nls/testkit";
import { parse, stringify } from "yaml";
import { freePort, waitFor, type Cluster } from "./cluster.js";
import { stopProcess } from "./stop-process.js";
import { publishWebhookEndpoint, withdrawWebhookEndpoint } from "./webhook-endpoints.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface DaemonProcess {
  child: ChildProcess;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /**
   * Every line it logged (also in `<cluster dir>/<name>.log`); stays empty when started with
   * `"file only"` (a bench's daemon logs per request: kept in memory, the lines would grow the bench).
   */
  log: string[];
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `node <args>` with `env`, its output in `log` (unless "file only") and in `<cluster dir>/<name>.log`. */
export function spawnDaemon(
  cluster: Cluster,
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: string[] | "file only",
): DaemonProcess {
  return spawnProcess(cluster, name, "node", args, env, log);
}

/** Starts `command <args>` as spawnDaemon starts node (another program: a Go binary under test). */
export function spawnProcess(
  cluster: Cluster,
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: string[] | "file only",
): DaemonProcess {
  const lines = log === "file only" ? undefined : log;
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const file = createWriteStream(join(cluster.dir, `${name}.log`), { flags: "a" });
  for (const s of [child.stdout, child.stderr]) {
    s.pipe(file, { end: false });
    if (lines) s.on("data", (d: Buffer) => lines.push(...d.toString().trim().split("\n")));
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(() => file.end());
  const stop = () => stopProcess(child);
  return { child, exited, log: lines ?? [], stop };
}

export interface ExtenderProcess extends DaemonProcess {
  port: number;
  /** The port of its debug views (`GET /cache`). */
  debugPort: number;
  /** With `webhook`: the port of its admission webhook, which the API server reaches. */
  webhookPort?: number;
}

/**
 * The built nls-extender on `port`, its debug views on `debugAddress` (loopback and a free port unless
 * given), as the kube-system/nls-extender ServiceAccount, with extra `args`; resolves once ready.
 */
export async function startExtender(
  cluster: Cluster,
  port: number,
  options: {
    log?: string[] | "file only";
    tokenDuration?: string;
    args?: string[];
    debugAddress?: { host: string; port: number };
    /**
     * Serve deploy/'s admission webhook (its certificate kept in deploy/'s Secret) on a free port, and
     * route the webhook's Service to it (webhook-endpoints.ts), as deploy/ with a running extender
     * pod has it: pods with claims then reach the API server marked.
     */
    webhook?: boolean;
  } = {},
): Promise<ExtenderProcess> {
  const debug = options.debugAddress ?? { host: "127.0.0.1", port: await freePort() };
  const webhookPort = options.webhook ? await freePort() : undefined;
  // One slice per process, withdrawn when it exits, as the EndpointSlice controller drops a gone pod.
  const slice = `extender-${port}-${randomBytes(3).toString("hex")}`;
  if (webhookPort !== undefined) await publishWebhookEndpoint(cluster, webhookPort, slice);
  const kubeconfig = await cluster.serviceAccountKubeconfig(
    "kube-system",
    "nls-extender",
    undefined,
    options.tokenDuration,
  );
  const proc = spawnDaemon(
    cluster,
    "nls-extender",
    [
      // As the image runs it (its entry point's Node flags), so the bench's figures are those of what ships.
      ...repositoryImageNodeFlags("extender"),
      join(root, "packages/extender/dist/cli.js"),
      "--kubeconfig",
      kubeconfig,
      "--port",
      String(port),
      // No Service routes here: nothing to wait for on SIGTERM.
      "--shutdown-delay",
      "0",
      "--debug-address",
      `${debug.host}:${debug.port}`,
      ...(webhookPort !== undefined ? [`--webhook-port=${webhookPort}`] : []),
      ...(options.args ?? []),
    ],
    { POD_NAMESPACE: "kube-system" },
    options.log ?? [],
  );
  try {
    await waitFor("extender /readyz", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return res?.ok ? true : undefined;
    });
    // Served once the extender has its certificate in the Secret and the caBundle (its first round).
    if (webhookPort !== undefined) await webhookAnswers(cluster);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  if (webhookPort === undefined) return { ...proc, port, debugPort: debug.port };
  const withdrawn = proc.exited.then(() => withdrawWebhookEndpoint(cluster, slice).catch(() => undefined));
  const stop = async () => {
    const code = await proc.stop();
    await withdrawn;
    return code;
  };
  return { ...proc, stop, port, debugPort: debug.port, webhookPort };
}

/**
 * Waits until the API server's call to deploy/'s webhook succeeds: a server-side dry run of a pod with
 * a claim (in `default`: kube-system is never sent to the webhook) comes back marked.
 */
export async function webhookAnswers(cluster: Cluster): Promise<void> {
  const probe = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "webhook-probe", namespace: "default" },
    spec: {
      containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }],
      volumes: [{ name: "d", persistentVolumeClaim: { claimName: "webhook-probe" } }],
    },
  };
  // The API server admits no pod of a namespace without its `default` ServiceAccount (the
  // service-account controller, not run here, would have made it), and does so before the webhook.
  const sa = await cluster.kubectl(["create", "serviceaccount", "default", "-n", "default"]);
  if (sa.exitCode !== 0 && !sa.stderr.includes("AlreadyExists") && !sa.stderr.includes("already exists")) {
    throw new Error(`cannot create default/default ServiceAccount: ${sa.stderr}`);
  }
  await waitFor("deploy/'s admission webhook to answer the API server", async () => {
    const r = await cluster.kubectl(["create", "--dry-run=server", "-o", "json", "-f", "-"], JSON.stringify(probe));
    return r.exitCode === 0 && r.stdout.includes("nls.csi.aliyun.com/local-storage") ? true : undefined;
  });
}

/**
 * A kube-scheduler configuration of deploy/scheduler (`file`), pointed at `extenderUrl` (for
 * Cluster.startScheduler).
 */
export async function schedulerConfigFor(extenderUrl: string, file = "kube-scheduler-config.yaml"): Promise<string> {
  const config = parse(await readFile(join(root, "deploy/scheduler", file), "utf8"));
  config.clientConnection.kubeconfig = "${KUBECONFIG}";
  config.leaderElection = { leaderElect: false };
  config.extenders[0].urlPrefix = `${extenderUrl}/scheduler`;
  return stringify(config);
}

export interface AgentProcess extends DaemonProcess {
  metricsUrl: string;
}

/**
 * An LVM configuration directory (for `LVM_SYSTEM_DIR`) in which LVM sees only `devices`. Each agent on
 * this machine stands for a node of its own: without it, every agent would report every VG on the
 * machine (other suites' and other users' too, appearing and vanishing as they run) as its node's.
 * Metadata backups stay where the agent reads them.
 */
async function lvmSeeingOnly(dir: string, devices: string[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const accept = devices.map((d) => {
    if (!/^\/dev\/[\w/-]+$/.test(d)) throw new Error(`${d}: not a plain device path, so no LVM filter is made for it`);
    return `"a|^${d}$|"`;
  });
  await writeFile(
    join(dir, "lvm.conf"),
    [
      `devices { global_filter = [ ${[...accept, '"r|.*|"'].join(", ")} ] }`,
      'backup { backup_dir = "/etc/lvm/backup" archive_dir = "/etc/lvm/archive" }',
      "",
    ].join("\n"),
  );
  return dir;
}

/**
 * The built nls-agent for Node `node` (which must exist), as the kube-system/nls-agent ServiceAccount
 * with a token bound to that Node, considering only `devices` — and its LVM seeing only them.
 */
export async function startAgent(
  cluster: Cluster,
  node: string,
  options: { devices: string[]; interval: string; log?: string[]; tokenDuration?: string },
): Promise<AgentProcess> {
  const kubeconfig = await cluster.serviceAccountKubeconfig("kube-system", "nls-agent", node, options.tokenDuration);
  const port = await freePort();
  const proc = spawnDaemon(
    cluster,
    `nls-agent-${node}`,
    [
      join(root, "packages/agent/dist/cli.js"),
      "--kubeconfig",
      kubeconfig,
      "--interval",
      options.interval,
      "--devices",
      options.devices.join(","),
      "--metrics-addr",
      `127.0.0.1:${port}`,
    ],
    {
      NODE_NAME: node,
      POD_NAMESPACE: "kube-system",
      LVM_SYSTEM_DIR: await lvmSeeingOnly(join(cluster.dir, `lvm-${node}`), options.devices),
    },
    options.log ?? [],
  );
  return { ...proc, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}
