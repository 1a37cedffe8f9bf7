/**
 * A real, throw-away Kubernetes control plane for end-to-end tests: etcd (Debian's etcd-server) and the
 * kube-apiserver / kube-scheduler / kube-controller-manager built from the k8s.io/kubernetes Go module by
 * `test/e2e/build-kube.sh`. Everything listens on loopback ports chosen at start and lives in a temp dir.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { tokenKubeconfigYaml } from "@nls/testkit";
import { stopProcess } from "./stop-process.js";

const execFileP = promisify(execFile);

export const ADMIN_TOKEN = "nls-e2e-admin";
export const KUBE_VERSION = "v1.34.4";
export const binDir = process.env.NLS_E2E_BIN ?? join(process.env.HOME ?? "/root", ".cache/nls-e2e", KUBE_VERSION);

/** Why the e2e suite cannot run here, or undefined when it can. CI sets NLS_REQUIRE_REAL_TOOLS=1 to fail instead. */
export async function e2eUnavailable(): Promise<string | undefined> {
  for (const bin of ["kube-apiserver", "kube-scheduler", "kube-controller-manager"]) {
    if (!existsSync(join(binDir, bin))) return `${join(binDir, bin)} missing (run test/e2e/build-kube.sh)`;
  }
  for (const cmd of ["etcd", "kubectl", "openssl"]) {
    try {
      await execFileP("sh", ["-c", `command -v ${cmd}`]);
    } catch {
      return `${cmd} not installed`;
    }
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => resolve({ stdout, stderr: stderr + e.message, exitCode: 127 }));
    child.on("close", (code) => resolve({ stdout, stderr, exitCode: code ?? 1 }));
    if (child.stdin) {
      // A command may exit without reading its input; that is its answer, not a test failure.
      child.stdin.on("error", () => undefined);
      child.stdin.end(input);
    }
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
}

export function kubeconfigYaml(server: string, token: string): string {
  return tokenKubeconfigYaml(server, token, "e2e");
}

export interface Cluster {
  dir: string;
  server: string;
  /** Admin kubeconfig path. */
  kubeconfig: string;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  /** kubectl that throws with stderr on a non-zero exit. */
  kubectlOk(args: string[], input?: string): Promise<string>;
  /** A kubeconfig for a ServiceAccount token (TokenRequest, default 1h), optionally bound to a Node object. */
  serviceAccountKubeconfig(namespace: string, name: string, boundNode?: string, duration?: string): Promise<string>;
  /** etcd's client URL (its v3 JSON gateway: the bench compacts and defragments between scenarios). */
  etcdUrl: string;
  /** The pid of the running etcd, kube-apiserver or kube-controller-manager, if it runs (the bench reads its CPU). */
  pidOf(process: "etcd" | "kube-apiserver" | "kube-controller-manager"): number | undefined;
  /** Starts a kube-scheduler with `configYaml`; the handle stops it (SIGTERM, then SIGKILL after 10 s). */
  startScheduler(configYaml: string): Promise<{ pid: number | undefined; stop(): Promise<void> }>;
  /** Stops kube-apiserver (etcd keeps the state): every client's watches break. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same address and waits until it is ready. */
  startApiServer(): Promise<void>;
  /** `extraArgs`: more kube-controller-manager flags (the bench lifts its client's rate limit). */
  startControllerManager(controllers?: string, extraArgs?: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** `apiServerArgs`: more kube-apiserver flags (feature gates, runtime config). */
export async function startCluster(options: { apiServerArgs?: string[] } = {}): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), "nls-e2e-"));
  const children: ChildProcess[] = [];
  const start = (name: string, cmd: string, args: string[]) => {
    const log = createWriteStream(join(dir, `${name}.log`));
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.push(child);
    return child;
  };
  const stopChild = async (c: ChildProcess) => {
    await stopProcess(c, { graceMs: 10_000 });
  };
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c);
    if (!process.env.NLS_E2E_KEEP) await rm(dir, { recursive: true, force: true });
  };

  try {
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    start("etcd", "etcd", [
      "--data-dir",
      join(dir, "etcd"),
      "--listen-client-urls",
      `http://127.0.0.1:${etcdClient}`,
      "--advertise-client-urls",
      `http://127.0.0.1:${etcdClient}`,
      "--listen-peer-urls",
      `http://127.0.0.1:${etcdPeer}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${etcdPeer}`,
      "--initial-cluster",
      `default=http://127.0.0.1:${etcdPeer}`,
    ]);
    await run("openssl", ["genrsa", "-out", join(dir, "sa.key"), "2048"]);
    await run("openssl", ["rsa", "-in", join(dir, "sa.key"), "-pubout", "-out", join(dir, "sa.pub")]);
    await writeFile(join(dir, "tokens.csv"), `${ADMIN_TOKEN},admin,admin,system:masters\n`);
    let apiServers = 0;
    const apiServer = () =>
      start(`kube-apiserver${apiServers++ ? `-${apiServers}` : ""}`, join(binDir, "kube-apiserver"), [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, "certs")}`,
        `--token-auth-file=${join(dir, "tokens.csv")}`,
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        "--enable-admission-plugins=NodeRestriction",
        "--service-account-issuer=https://kubernetes.default.svc",
        `--service-account-key-file=${join(dir, "sa.pub")}`,
        `--service-account-signing-key-file=${join(dir, "sa.key")}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        "--api-audiences=https://kubernetes.default.svc",
        // Webhook Services resolved through their EndpointSlices, not dialled at a ClusterIP (no
        // kube-proxy here): deploy/'s admission webhook is reached as webhook-endpoints.ts describes.
        "--enable-aggregator-routing=true",
        ...(options.apiServerArgs ?? []),
      ]);
    let apiServerProcess = apiServer();
    const etcdProcess = children[0]!;
    let controllerManager: ChildProcess | undefined;
    const running = (c: ChildProcess | undefined) =>
      c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = join(dir, "admin.kubeconfig");
    await writeFile(kubeconfig, kubeconfigYaml(server, ADMIN_TOKEN));
    const kubectl = (args: string[], input?: string) =>
      run("kubectl", ["--kubeconfig", kubeconfig, ...args], {}, input);
    const kubectlOk = async (args: string[], input?: string) => {
      const r = await kubectl(args, input);
      if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
      return r.stdout;
    };
    const apiServerReady = () =>
      waitFor(
        "kube-apiserver /readyz",
        async () => {
          const r = await kubectl(["get", "--raw", "/readyz"]);
          return r.exitCode === 0 && r.stdout.trim() === "ok" ? true : undefined;
        },
        120_000,
      );
    await apiServerReady();
    // RBAC bootstrap roles and the default namespace appear shortly after readiness.
    await waitFor("default service account namespace", async () =>
      (await kubectl(["get", "namespace", "kube-system"])).exitCode === 0 ? true : undefined,
    );

    let schedulers = 0;
    const cluster: Cluster = {
      dir,
      server,
      etcdUrl: `http://127.0.0.1:${etcdClient}`,
      pidOf: (name) =>
        running(
          { etcd: etcdProcess, "kube-apiserver": apiServerProcess, "kube-controller-manager": controllerManager }[name],
        ),
      kubeconfig,
      kubectl,
      kubectlOk,
      async serviceAccountKubeconfig(namespace, name, boundNode, duration = "1h") {
        const args = ["create", "token", name, "-n", namespace, `--duration=${duration}`];
        if (boundNode) {
          const uid = (await kubectlOk(["get", "node", boundNode, "-o", "jsonpath={.metadata.uid}"])).trim();
          args.push("--bound-object-kind=Node", `--bound-object-name=${boundNode}`, `--bound-object-uid=${uid}`);
        }
        const token = (await kubectlOk(args)).trim();
        const path = join(dir, `${namespace}-${name}${boundNode ? `-${boundNode}` : ""}.kubeconfig`);
        await writeFile(path, kubeconfigYaml(server, token));
        return path;
      },
      async startScheduler(configYaml) {
        const cfg = join(dir, `scheduler-config-${++schedulers}.yaml`);
        await writeFile(cfg, configYaml.replaceAll("${KUBECONFIG}", kubeconfig));
        const port = await freePort();
        const child = start(`kube-scheduler-${schedulers}`, join(binDir, "kube-scheduler"), [
          `--config=${cfg}`,
          "--bind-address=127.0.0.1",
          `--secure-port=${port}`,
          "--v=2",
        ]);
        return { pid: child.pid, stop: () => stopChild(child) };
      },
      async startControllerManager(controllers = "*", extraArgs: string[] = []) {
        const port = await freePort();
        controllerManager = start("kube-controller-manager", join(binDir, "kube-controller-manager"), [
          `--kubeconfig=${kubeconfig}`,
          "--bind-address=127.0.0.1",
          `--secure-port=${port}`,
          "--leader-elect=false",
          `--controllers=${controllers}`,
          `--service-account-private-key-file=${join(dir, "sa.key")}`,
          "--use-service-account-credentials=false",
          ...extraArgs,
        ]);
      },
      async stopApiServer() {
        await stopChild(apiServerProcess);
      },
      async startApiServer() {
        apiServerProcess = apiServer();
        await apiServerReady();
      },
      stop,
    };
    return cluster;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Applies the CRDs from crds/ and waits until the API server serves them. */
export async function installCrds(cluster: Cluster, crdsDir: string): Promise<void> {
  await cluster.kubectlOk([
    "apply",
    "-f",
    join(crdsDir, "csi.aliyun.com_nodelocalstorages.yaml"),
    "-f",
    join(crdsDir, "csi.aliyun.com_nodelocalstorageinitconfigs.yaml"),
  ]);
  await crdsEstablished(cluster);
}

/** Waits until the API server serves the nls CRDs (applied by installCrds or with deploy/). */
export async function crdsEstablished(cluster: Cluster): Promise<void> {
  await cluster.kubectlOk([
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    "crd/nodelocalstorages.csi.aliyun.com",
    "crd/nodelocalstorageinitconfigs.csi.aliyun.com",
  ]);
}

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A cluster with `deploy/` applied (its RBAC, admission policies and CRDs; the workloads never run:
 * there is no kubelet) and the CRDs established. `defaultServiceAccount` creates default/default, which
 * no controller makes here and the ServiceAccount admission plugin wants for a pod in `default`. A
 * cluster whose set-up fails is stopped before the error is thrown.
 */
export async function startDeployedCluster(options: { defaultServiceAccount?: boolean } = {}): Promise<Cluster> {
  const cluster = await startCluster();
  try {
    await cluster.kubectlOk(["apply", "-k", join(repoRoot, "deploy")]);
    await crdsEstablished(cluster);
    if (options.defaultServiceAccount)
      await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** `test` when the e2e prerequisites exist; otherwise skipped — or failed when CI requires real tools. */
export async function e2eGate(): Promise<{ run: boolean; why?: string }> {
  const why = await e2eUnavailable();
  if (!why) return { run: true };
  if (process.env.NLS_REQUIRE_REAL_TOOLS === "1") throw new Error(`e2e prerequisites missing in CI: ${why}`);
  return { run: false, why };
}
