/**
 * `kubectl nls` against the real control plane: the plugin installed as its docs say, found by the real
 * kubectl, reading the objects through the API server and the extender's ledger the way it reaches a
 * real deployment: the selector-less Service's EndpointSlice, which the extender's leader writes itself
 * into, then pods/proxy to the pod it names — with the real kube-scheduler and the built extender
 * deciding. Each answer is compared with the objects, the extender's `/cache` and what kube-scheduler did.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kustomizeOverlay, type KubeObject } from "../deploy/render.js";
import { gatedSerial } from "../gate.js";
import { crdsEstablished, e2eGate, freePort, run, startCluster, waitFor, type Cluster } from "./cluster.js";
import { schedulerConfigFor, startExtender, type ExtenderProcess } from "./daemons.js";
import { hostAddress } from "./webhook-endpoints.js";
import { failedSchedulingMessages } from "./events.js";
import { addStorageNode } from "./node-storage.js";
import { addReadyNode, replaceStatus } from "./nodes.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const GI = 2 ** 30;
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# kubectl-nls e2e skipped: ${gate.why}`);

const ctx = {} as {
  cluster: Cluster;
  extender: ExtenderProcess;
  port: number;
  /** The extender's debug views (`/cache`), exposed as deploy/components/extender-debug-views does. */
  debugPort: number;
  dir: string;
  /** PATH with the installed plugin first. */
  path: string;
  /** KUBECONFIG: a file with another context first, then the admin one (merged as kubectl does). */
  kubeconfigs: string;
  leaseNamespace: string;
  /** Who answers kubectl nls: the extender's pod, found through its Service (default flag), or its URL when the host has no proxyable address. */
  extenderFrom: string;
};

const apply = (obj: unknown) => ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));

/** `kubectl nls ARGS` through the real kubectl, as an operator runs it. */
async function kubectlNls(args: string[]) {
  const extender =
    ctx.extenderFrom.startsWith("http") && !args.includes("--extender") ? ["--extender", ctx.extenderFrom] : [];
  return run("kubectl", ["nls", ...args, ...extender], { PATH: ctx.path, KUBECONFIG: ctx.kubeconfigs });
}
async function kubectlNlsJson<T>(args: string[]): Promise<T> {
  const r = await kubectlNls([...args, "-o", "json"]);
  if (r.exitCode !== 0) throw new Error(`kubectl nls ${args.join(" ")}: exit ${r.exitCode}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface CacheDump {
  settings: { leaseNamespace: string };
  ledger: { nodes: Record<string, { vgs: Record<string, number> }> };
}
const extenderCache = async (): Promise<CacheDump> =>
  (await (await fetch(`http://127.0.0.1:${ctx.debugPort}/cache`)).json()) as CacheDump;

/** A node with one 100Gi VG pool-0 and its agent's Lease, renewed `leaseAgeSeconds` ago (a Lease lasts 1h). */
const addNode = (name: string, leaseAgeSeconds: number) =>
  addStorageNode(
    ctx.cluster,
    name,
    { vgs: [{ name: "pool-0", bytes: 100 * GI }] },
    { namespace: ctx.leaseNamespace, renewedSecondsAgo: leaseAgeSeconds },
  );

const EXTENDER_POD = "nls-extender-e2e";

/**
 * The extender process as the pod it stands for: a Pod object whose status.podIP is this host's address,
 * which pods/proxy dials (the API server needs no kubelet for that), on node `node`.
 */
async function extenderPod(address: string, node: string) {
  await apply({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: EXTENDER_POD, namespace: "kube-system", labels: { "app.kubernetes.io/name": "nls-extender" } },
    spec: {
      nodeName: node,
      serviceAccountName: "nls-extender",
      automountServiceAccountToken: false,
      containers: [{ name: "extender", image: "nls" }],
    },
  });
  await replaceStatus(ctx.cluster, ["pod", EXTENDER_POD, "-n", "kube-system"], {
    phase: "Running",
    podIP: address,
    podIPs: [{ ip: address }],
  });
}

/**
 * deploy/'s objects with the extender's EndpointSlice carrying the ports the host process listens on:
 * in a cluster they are the container's ports (23000, 23001); the leader writes only the endpoints.
 */
function withHostPorts(objects: KubeObject[]): KubeObject[] {
  return objects.map((o) =>
    o.kind === "EndpointSlice" && o.metadata.name === "nls-extender"
      ? {
          ...o,
          ports: [
            { name: "http", port: ctx.port, protocol: "TCP" },
            { name: "debug", port: ctx.debugPort, protocol: "TCP" },
          ],
        }
      : o,
  );
}

const pvc = (name: string, size: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace: "default" },
  spec: {
    accessModes: ["ReadWriteOnce"],
    storageClassName: "open-local-lvm",
    resources: { requests: { storage: size } },
    ...extra,
  },
});
const pod = (name: string, claim: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: {
    containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }],
    volumes: [{ name: "v", persistentVolumeClaim: { claimName: claim } }],
  },
});

async function selectedNode(claim: string): Promise<string | undefined> {
  const p = JSON.parse(await ctx.cluster.kubectlOk(["get", "pvc", claim, "-n", "default", "-o", "json"]));
  return p.metadata.annotations?.["volume.kubernetes.io/selected-node"];
}

test.before(async () => {
  if (!gate.run) return;
  ctx.dir = await mkdtemp(join(tmpdir(), "nls-kubectl-"));
  // Installed as docs/kubectl-nls.md says: a self-contained folder, then npm puts its bins on the PATH.
  const deployed = join(ctx.dir, "kubectl-nls");
  const deploy = await run(
    "pnpm",
    ["--filter", "@nls/kubectl-nls", "deploy", "--prod", "--legacy", "--prefer-offline", deployed],
    {},
    undefined,
  );
  if (deploy.exitCode !== 0) throw new Error(`pnpm deploy: ${deploy.stderr}${deploy.stdout}`);
  const prefix = join(ctx.dir, "npm-global");
  const install = await run("npm", ["install", "-g", "--prefix", prefix, deployed]);
  if (install.exitCode !== 0) throw new Error(`npm install -g: ${install.stderr}`);
  ctx.path = `${join(prefix, "bin")}:${process.env.PATH}`;

  const cluster = (ctx.cluster = await startCluster());
  ctx.port = await freePort();
  ctx.debugPort = await freePort();
  // deploy/ with the extender's debug views exposed, which kubectl nls reads through the API server.
  const objects = withHostPorts(
    await kustomizeOverlay({ resources: [""], components: ["components/extender-debug-views"] }),
  );
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  await crdsEstablished(cluster);
  await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
  // KUBECONFIG with two files: the first names another cluster and sets no current context, so the
  // second's current context (the admin's) is the one kubectl — and kubectl nls — use.
  const other = join(ctx.dir, "other.kubeconfig");
  await writeFile(
    other,
    [
      "apiVersion: v1",
      "kind: Config",
      'clusters: [{name: elsewhere, cluster: {server: "https://127.0.0.1:1"}}]',
      "users: [{name: nobody, user: {token: x}}]",
      "contexts: [{name: elsewhere, context: {cluster: elsewhere, user: nobody}}]",
      "",
    ].join("\n"),
  );
  ctx.kubeconfigs = `${other}:${cluster.kubeconfig}`;

  // The extender as deploy/ runs it: the leader writes its address into the Service's slice. That needs an
  // address the API server accepts in a slice and proxies to (not loopback): the host's, where it has one.
  const address = hostAddress();
  if (address) await extenderPod(address, "k-a");
  const leader = address
    ? [
        "--leader-elect",
        "--leader-endpoint-slices",
        "nls-extender",
        "--pod-ip",
        address,
        "--pod-name",
        EXTENDER_POD,
        "--node-name",
        "k-a",
      ]
    : [];
  ctx.extender = await startExtender(cluster, ctx.port, {
    debugAddress: { host: "0.0.0.0", port: ctx.debugPort },
    args: leader,
    webhook: true,
  });
  ctx.leaseNamespace = (await extenderCache()).settings.leaseNamespace;
  await addNode("k-a", 5);
  await addNode("k-b", 5);
  await addNode("k-c", 7200); // renewed two hours ago: expired
  await addReadyNode(cluster, "k-d"); // a Node without local storage
  // deploy/'s sample class, open-local-lvm.
  await cluster.kubectlOk(["apply", "-f", join(root, "deploy/samples/storageclass.yaml")]);
  // 40Gi of k-a's pool-0 held by a provisioned volume.
  await apply({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name: "pv-held",
      annotations: { "csi.aliyun.com/pv-allocated": '{"vgName":"pool-0","volumeType":"LVM"}' },
    },
    spec: {
      capacity: { storage: "40Gi" },
      accessModes: ["ReadWriteOnce"],
      storageClassName: "open-local-lvm",
      csi: { driver: "local.csi.aliyun.com", volumeHandle: "pv-held", volumeAttributes: { vgName: "pool-0" } },
      claimRef: { namespace: "default", name: "held" },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["k-a"] }] },
          ],
        },
      },
    },
  });
  await apply(pvc("held", "40Gi", { volumeName: "pv-held" }));
  if (address) {
    await waitFor("the leader in the Service's EndpointSlice", async () => {
      const slice = JSON.parse(
        await cluster.kubectlOk(["get", "endpointslice", "nls-extender", "-n", "kube-system", "-o", "json"]),
      );
      return slice.endpoints?.[0]?.targetRef?.name === EXTENDER_POD ? true : undefined;
    });
    ctx.extenderFrom = `pod kube-system/${EXTENDER_POD}`;
  } else ctx.extenderFrom = `http://127.0.0.1:${ctx.debugPort}/`;
  await waitFor("the extender to see pv-held", async () =>
    (await extenderCache()).ledger.nodes["k-a"]?.vgs["pool-0"] === 40 * GI ? true : undefined,
  );
  await cluster.startScheduler(await schedulerConfigFor(`http://127.0.0.1:${ctx.port}`));
});

test.after.always(async () => {
  await ctx.extender?.stop();
  await ctx.cluster?.stop();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

interface CapacityJson {
  committedFrom: { kind: string; from?: string; why?: string };
  nodes: Array<{
    node: string;
    vgs: Array<{
      name: string;
      allocatable: number;
      committed: number;
      free: number;
      bySource: Record<string, number>;
    }>;
    agent: { state: string; problem?: string };
  }>;
  totals: { allocatable: number; committed: number; free: number };
  nodesWithoutNls: string[];
}

test("capacity: the agents' allocatable, the extender's committed bytes (read through the leader's slice and pods/proxy), the Leases", async (t) => {
  const c = await kubectlNlsJson<CapacityJson>(["capacity"]);
  t.deepEqual(c.committedFrom, { kind: "extender", from: ctx.extenderFrom, reservations: 0 });
  const cache = await extenderCache();
  for (const n of c.nodes) {
    t.is(n.vgs[0]!.allocatable, 100 * GI, `${n.node}: the NodeLocalStorage's allocatable`);
    t.is(n.vgs[0]!.committed, cache.ledger.nodes[n.node]?.vgs["pool-0"] ?? 0, `${n.node}: the extender's ledger`);
  }
  const byNode = Object.fromEntries(c.nodes.map((n) => [n.node, n]));
  t.deepEqual(Object.keys(byNode), ["k-a", "k-b", "k-c"]);
  t.deepEqual(byNode["k-a"]!.vgs[0]!.bySource, { pv: 40 * GI, lv: 0, allocation: 0, selected: 0, tentative: 0 });
  t.is(byNode["k-a"]!.vgs[0]!.free, 60 * GI);
  t.is(byNode["k-b"]!.agent.state, "ok");
  t.is(byNode["k-c"]!.agent.state, "expired");
  t.deepEqual(c.nodesWithoutNls, ["k-d"]);
  t.is(c.totals.free, 260 * GI);

  // Without the extender the ledger is rebuilt from the objects by the same code: the same figures.
  const offline = await kubectlNlsJson<CapacityJson>(["capacity", "--extender", "none"]);
  t.is(offline.committedFrom.kind, "objects");
  t.deepEqual(
    offline.nodes.map((n) => n.vgs[0]!.committed),
    c.nodes.map((n) => n.vgs[0]!.committed),
  );

  const table = await kubectlNls(["capacity", "--node", "k-a"]);
  t.is(table.exitCode, 0, table.stderr);
  t.regex(table.stdout, /^k-a\s+pool-0\s+100Gi\s+40Gi\s+60Gi\s+40%\s+0\/0\s+ok \(\d+s\)$/m);
});

test("explain: the extender's reasons per node are the ones kube-scheduler's event counts", async (t) => {
  await apply({ apiVersion: "v1", kind: "List", items: [pvc("huge", "120Gi"), pod("huge", "huge")] });
  const event = await waitFor(
    "kube-scheduler to refuse the 120Gi pod",
    async () => (await failedSchedulingMessages(ctx.cluster, "huge")).at(-1),
    120_000,
  );
  const e = await kubectlNlsJson<{
    nodes: Array<{ node: string; fits: boolean; reason: string; detail: string }>;
    reasons: Array<{ reason: string; nodes: number }>;
    schedulerMessages: string[];
  }>(["explain", "huge", "-n", "default"]);
  // Every clause of the event ("N reason") is one of explain's reasons with the same count.
  for (const r of e.reasons) t.true(event.includes(`${r.nodes} ${r.reason}`), `${r.nodes} ${r.reason} in: ${event}`);
  t.regex(event, /^0\/4 nodes are available: /);
  t.deepEqual(
    e.reasons.reduce((a, r) => a + r.nodes, 0),
    4,
  );
  const byNode = Object.fromEntries(e.nodes.map((n) => [n.node, n]));
  t.is(byNode["k-a"]!.detail, "vg pool-0: need 120Gi, free 60Gi of 100Gi");
  t.is(byNode["k-b"]!.detail, "vg pool-0: need 120Gi, free 100Gi of 100Gi");
  t.is(byNode["k-c"]!.reason, "local storage agent not reporting");
  t.is(byNode["k-d"]!.reason, "no local storage reported (no NodeLocalStorage)");
  t.is(e.schedulerMessages.at(-1), event);

  const human = await kubectlNls(["explain", "huge", "-n", "default", "--node", "k-a"]);
  t.is(human.exitCode, 0, human.stderr);
  t.regex(human.stdout, /^\s+40Gi\s+pv:pv-held \(PV\)$/m);
  t.regex(human.stdout, /^verdict: refused — insufficient local storage \(LVM\)$/m);
});

test("simulate predicts where kube-scheduler puts the next pods, and capacity then shows them", async (t) => {
  const sim = await kubectlNlsJson<{ pods: Array<{ node?: string }>; excluded: Array<{ node: string }> }>([
    "simulate",
    "--pods",
    "3x30Gi",
  ]);
  const predicted = sim.pods.map((p) => p.node);
  t.deepEqual(
    sim.excluded.map((x) => x.node),
    ["k-c"],
    "the node whose agent is down is left out",
  );
  const placed: Array<string | undefined> = [];
  for (let i = 0; i < 3; i++) {
    await apply({ apiVersion: "v1", kind: "List", items: [pvc(`next-${i}`, "30Gi"), pod(`next-${i}`, `next-${i}`)] });
    placed.push(await waitFor(`next-${i} to get a node`, () => selectedNode(`next-${i}`), 120_000));
  }
  t.deepEqual(placed, predicted);
  const after = await kubectlNlsJson<CapacityJson>(["capacity"]);
  const cache = await extenderCache();
  for (const n of after.nodes) t.is(n.vgs[0]!.committed, cache.ledger.nodes[n.node]?.vgs["pool-0"] ?? 0, n.node);
  const selected = after.nodes.reduce((a, n) => a + (n.vgs[0]!.bySource.selected ?? 0), 0);
  t.is(selected, 90 * GI, "the three selected-node claims");
});

test("kubectl completes the plugin's words through kubectl_complete-nls, with names from the cluster", async (t) => {
  const env = { PATH: ctx.path, KUBECONFIG: ctx.kubeconfigs };
  const sub = await run("kubectl", ["__complete", "nls", ""], env);
  t.regex(sub.stdout, /^capacity\t/m);
  const nodes = await run("kubectl", ["__complete", "nls", "capacity", "--node", "k-"], env);
  t.deepEqual(nodes.stdout.trim().split("\n"), ["k-a", "k-b", "k-c", "k-d", ":4"]);
  const pods = await run("kubectl", ["__complete", "nls", "explain", "-n", "default", "hu"], env);
  t.deepEqual(pods.stdout.trim().split("\n"), ["huge", ":4"]);
});

test("an operator with deploy/'s reader roles: bound to nls-extender-cache-reader too, reads the leader's /cache (unbound, the error says what to grant); explains a pending pod", async (t) => {
  if (ctx.extenderFrom.startsWith("http")) {
    t.log("no host address the API server can proxy to: the Service route is not exercised here");
    t.pass();
    return;
  }
  // The operator holds deploy/'s reader roles for what kubectl nls reads (docs/kubectl-nls.md), nothing in kube-system.
  await ctx.cluster.kubectlOk(["create", "serviceaccount", "operator", "-n", "default"]);
  await ctx.cluster.kubectlOk([
    "create",
    "clusterrolebinding",
    "e2e-nls-kubectl-reader",
    "--clusterrole=nls-kubectl-reader",
    "--serviceaccount=default:operator",
  ]);
  await ctx.cluster.kubectlOk([
    "create",
    "rolebinding",
    "e2e-nls-kubectl-lease-reader",
    "-n",
    "nls-node-lease",
    "--role=nls-kubectl-lease-reader",
    "--serviceaccount=default:operator",
  ]);
  const kubeconfig = await ctx.cluster.serviceAccountKubeconfig("default", "operator");
  const capacity = async () => {
    const r = await run("kubectl", ["nls", "capacity", "-o", "json"], { PATH: ctx.path, KUBECONFIG: kubeconfig });
    if (r.exitCode !== 0) throw new Error(`kubectl nls capacity: exit ${r.exitCode}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as CapacityJson).committedFrom;
  };
  const unbound = await capacity();
  t.is(unbound.kind, "objects");
  t.regex(unbound.why ?? "", /get Service kube-system\/nls-extender: HTTP 403/);
  t.regex(
    unbound.why ?? "",
    /needs get services, list endpointslices \(discovery\.k8s\.io\) and get pods\/proxy in kube-system/,
  );

  await ctx.cluster.kubectlOk([
    "create",
    "rolebinding",
    "e2e-cache-reader",
    "-n",
    "kube-system",
    "--role=nls-extender-cache-reader",
    "--serviceaccount=default:operator",
  ]);
  const bound = await waitFor("the RoleBinding to take effect", async () => {
    const c = await capacity();
    return c.kind === "extender" ? c : undefined;
  });
  t.like(bound, { kind: "extender", from: ctx.extenderFrom });
  // The same roles serve explain: the pod and its FailedScheduling events.
  const explain = await run("kubectl", ["nls", "explain", "-n", "default", "huge"], {
    PATH: ctx.path,
    KUBECONFIG: kubeconfig,
  });
  t.is(explain.exitCode, 0, explain.stderr);
  t.regex(explain.stdout, /huge/);
});
