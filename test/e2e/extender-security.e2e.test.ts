/**
 * The extender hardened as deploy/components/extender-tls installs it, against the real API server and
 * kube-scheduler: HTTPS with a client CA, bearer tokens reviewed by the API server, RBAC deciding who
 * may call what, the reserve-only port for open-local's CSI driver, and the extender running with
 * nothing but deploy/'s RBAC. kube-scheduler uses deploy/scheduler/kube-scheduler-config-tls.yaml.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTestCa, type Issued, type TestCa } from "@nls/testkit";
import { parse, stringify } from "yaml";
import { extenderDeployment } from "../deploy/leader-routing.js";
import { kustomizeWithComponent } from "../deploy/render.js";
import { webhookAnswers } from "./daemons.js";
import { publishWebhookEndpoint } from "./webhook-endpoints.js";
import { gatedSerial } from "../gate.js";
import { crdsEstablished, e2eGate, freePort, startCluster, waitFor, type Cluster } from "./cluster.js";
import { containerCommand, podOf } from "./container-command.js";
import { localPod, localPvc, localStorageClass } from "./local-volumes.js";
import { addStorageNode } from "./node-storage.js";
import { stopProcess } from "./stop-process.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const GI = 2 ** 30;
const NODES = ["secure-a", "secure-b"];
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# extender security e2e skipped: ${gate.why}`);

const ctx = {} as {
  cluster: Cluster;
  ca: TestCa;
  scheduler: Issued;
  extender: ChildProcess;
  log: string[];
  port: number;
  reservePort: number;
};

const tokenOf = async (cluster: Cluster, namespace: string, sa: string) =>
  (
    parse(await readFile(await cluster.serviceAccountKubeconfig(namespace, sa), "utf8")) as {
      users: Array<{ user: { token: string } }>;
    }
  ).users[0]!.user.token;

/** One call to the extender: HTTPS on its public port (trusting the test CA), or plain HTTP on 23002's stand-in. */
function call(
  path: string,
  options: { token?: string; client?: Issued; body?: string; plain?: boolean; method?: string } = {},
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.plain) {
    return fetch(`http://127.0.0.1:${ctx.reservePort}${path}`, {
      method: options.method ?? "POST",
      headers,
      body: options.body ?? "",
    }).then(async (r) => ({ status: r.status, body: await r.text() }));
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: ctx.port,
        path,
        method: options.method ?? "POST",
        servername: "nls-extender.kube-system.svc",
        headers,
        agent: false,
        ca: readFileSync(ctx.ca.cert),
        ...(options.client ? { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) } : {}),
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body ?? "");
  });
}

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startCluster());
  ctx.ca = await makeTestCa("nls-e2e-ca", cluster.dir);
  // deploy/ with the component, as an operator would apply it (no kubelet runs its Deployment here).
  const objects = await kustomizeWithComponent("extender-tls");
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  await crdsEstablished(cluster);
  for (const ns of ["app", "other"]) {
    await cluster.kubectlOk(["create", "namespace", ns]);
    await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", ns]);
  }
  for (const n of NODES) await addStorageNode(cluster, n, { vgs: [{ name: "pool-0", bytes: 100 * GI }] });
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(localStorageClass("nls-lvm")));

  const serving = await ctx.ca.server("extender", ["nls-extender.kube-system.svc", "127.0.0.1"]);
  ctx.scheduler = await ctx.ca.client("kube-scheduler", "system:kube-scheduler");
  [ctx.port, ctx.reservePort] = [await freePort(), await freePort()];
  ctx.log = [];
  // deploy/'s admission webhook, served by this extender and routed to as webhook-endpoints.ts says.
  const webhookPort = await freePort();
  await publishWebhookEndpoint(cluster, webhookPort);
  // The extender with the flags the component gives it, as its ServiceAccount (deploy/'s RBAC only).
  // The leader writes a pod-like address into the slices (the API server refuses loopback ones there;
  // this suite calls the process itself). Args and env as the kubelet gives them.
  const command = containerCommand(
    podOf(extenderDeployment(objects) as never, "nls-extender-e2e", NODES[0]!),
    "10.88.0.9",
  );
  const args = command.args.filter(
    (a) => !/^--(port|tls-cert-file|tls-private-key-file|client-ca-file|reserve-port|webhook-port)=/.test(a),
  );
  ctx.extender = spawn(
    "node",
    [
      join(root, "packages/extender/dist/cli.js"),
      ...args,
      `--kubeconfig=${await cluster.serviceAccountKubeconfig("kube-system", "nls-extender")}`,
      `--port=${ctx.port}`,
      `--tls-cert-file=${serving.cert}`,
      `--tls-private-key-file=${serving.key}`,
      `--client-ca-file=${ctx.ca.cert}`,
      `--reserve-port=${ctx.reservePort}`,
      `--debug-address=127.0.0.1:${await freePort()}`,
      `--webhook-port=${webhookPort}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...command.env } },
  );
  for (const s of [ctx.extender.stdout!, ctx.extender.stderr!])
    s.on("data", (d: Buffer) => ctx.log.push(...d.toString().trim().split("\n")));
  // Ready once its caches are synced; it serves once it leads and its EndpointSlices name it.
  await waitFor("the extender to lead and serve", async () => {
    const r = await call("/readyz?verbose", { method: "GET" }).catch(() => undefined);
    return r?.status === 200 && r.body.includes("[+]role ok: leader\n") ? true : undefined;
  });

  await webhookAnswers(cluster);

  // The shipped TLS configuration, pointed at this extender, these files and this API server.
  const config = parse(await readFile(join(root, "deploy/scheduler/kube-scheduler-config-tls.yaml"), "utf8"));
  config.clientConnection.kubeconfig = "${KUBECONFIG}";
  config.leaderElection = { leaderElect: false };
  const extender = config.extenders[0];
  extender.urlPrefix = `https://127.0.0.1:${ctx.port}/scheduler`;
  Object.assign(extender.tlsConfig, { caFile: ctx.ca.cert, certFile: ctx.scheduler.cert, keyFile: ctx.scheduler.key });
  await cluster.startScheduler(stringify(config));
});

test.after.always(async () => {
  if (ctx.extender) await stopProcess(ctx.extender);
  await ctx.cluster?.stop();
});

const apply = (obj: unknown) => ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));
const pvcJson = async (ns: string, name: string) =>
  JSON.parse(await ctx.cluster.kubectlOk(["-n", ns, "get", "pvc", name, "-o", "json"])) as {
    metadata: { annotations?: Record<string, string> };
  };
const reservePath = (ns: string, name: string, node: string) =>
  `/apis/scheduling/${ns}/persistentvolumeclaims/${name}?volumeType=LVM&nodeName=${node}`;

test("kube-scheduler calls the extender over TLS with its client certificate (the shipped example)", async (t) => {
  t.teardown(() => {
    if (!t.passed) t.log(ctx.log.slice(-30).join("\n"));
  });
  await apply({
    apiVersion: "v1",
    kind: "List",
    items: [localPvc("app", "data", "30Gi", "nls-lvm"), localPod("app", "web", ["data"])],
  });
  await apply({
    apiVersion: "v1",
    kind: "List",
    items: [localPvc("app", "huge", "200Gi", "nls-lvm"), localPod("app", "huge", ["huge"])],
  });
  const node = await waitFor(
    "kube-scheduler to choose a node for app/data",
    async () => (await pvcJson("app", "data")).metadata.annotations?.["volume.kubernetes.io/selected-node"],
  );
  t.true(NODES.includes(node));
  // The 200Gi claim fits nowhere: only the extender knows, so its reason in the event proves the call
  // (the numbers are in the extender's log).
  const refused = await waitFor("the huge pod's FailedScheduling event", async () => {
    const ev = JSON.parse(
      await ctx.cluster.kubectlOk([
        "-n",
        "app",
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=huge,reason=FailedScheduling",
        "-o",
        "json",
      ]),
    ) as { items: Array<{ message: string }> };
    return ev.items.length ? ev.items.map((e) => e.message).join("\n") : undefined;
  });
  t.regex(refused, /0\/2 nodes are available: 2 insufficient local storage \(LVM\)/);
  t.true(ctx.log.some((l) => l.includes('"msg":"filter"') && l.includes("need 200Gi")));
  t.true(ctx.log.some((l) => l.includes('"verb":"filter"') && l.includes('"pod":"app/web"')));
});

test("a pod's service account cannot filter, reserve, annotate a PVC or read /cache", async (t) => {
  const token = await tokenOf(ctx.cluster, "app", "default");
  const node = (await pvcJson("app", "data")).metadata.annotations!["volume.kubernetes.io/selected-node"]!;
  const filter = await call("/scheduler/predicates", {
    token,
    body: JSON.stringify({ Pod: localPod("app", "web", ["data"]), NodeNames: NODES }),
  });
  t.is(filter.status, 403);
  t.regex(filter.body, /system:serviceaccount:app:default may not schedule extenders.nls.csi.aliyun.com/);
  const reserve = await call(reservePath("app", "data", node), { token });
  t.is(reserve.status, 403);
  t.regex(reserve.body, /may not reserve extenders.nls.csi.aliyun.com in namespace app/);
  t.is((await call(reservePath("app", "data", node))).status, 401, "no credentials at all");
  t.is((await call("/cache", { token, method: "GET" })).status, 404, "the ledger is not on the public port");
  const annotate = await ctx.cluster.kubectl([
    "--kubeconfig",
    await ctx.cluster.serviceAccountKubeconfig("app", "default"),
    "-n",
    "app",
    "annotate",
    "pvc",
    "data",
    "nls.csi.aliyun.com/allocation={}",
  ]);
  t.regex(annotate.stderr, /forbidden/);
  t.is((await pvcJson("app", "data")).metadata.annotations?.["nls.csi.aliyun.com/allocation"], undefined);
});

test("the reserve route refuses claims that are not pending on that node for a waiting pod, then grants the real one", async (t) => {
  const node = (await pvcJson("app", "data")).metadata.annotations!["volume.kubernetes.io/selected-node"]!;
  const other = NODES.find((n) => n !== node)!;
  // A claim without a node, and one a tenant marked by hand with no pod waiting for it.
  await apply(localPvc("app", "idle", "10Gi", "nls-lvm"));
  await apply({
    ...localPvc("app", "pinned", "50Gi", "nls-lvm"),
    metadata: { name: "pinned", namespace: "app", annotations: { "volume.kubernetes.io/selected-node": node } },
  });
  await waitFor("the extender to see app/pinned", async () => {
    const r = await call(reservePath("app", "pinned", node), { plain: true });
    return r.status !== 404 ? r : undefined;
  });
  for (const [name, asked, message] of [
    ["idle", node, /has no volume.kubernetes.io\/selected-node annotation/],
    ["data", other, new RegExp(`selected for node ${node}, not ${other}`)],
    ["pinned", node, /no pod waiting to be scheduled uses pvc app\/pinned/],
  ] as const) {
    const r = await call(reservePath("app", name, asked), { plain: true });
    t.is(r.status, 409, `${name} on ${asked}: ${r.body}`);
    t.regex(r.body, message);
    t.is((await pvcJson("app", name)).metadata.annotations?.["nls.csi.aliyun.com/allocation"], undefined);
  }
  // kube-scheduler waits in PreBind for app/data to be provisioned: what the CSI driver asks now is granted,
  // and the extender records it on the PVC with its own (deploy/) RBAC.
  const granted = await call(reservePath("app", "data", node), { plain: true });
  t.is(granted.status, 200, granted.body);
  t.like(JSON.parse(granted.body), { node, vgName: "pool-0", volumeType: "LVM", persistentVolumeClaim: "app/data" });
  const record = await waitFor(
    "the allocation annotation",
    async () => (await pvcJson("app", "data")).metadata.annotations?.["nls.csi.aliyun.com/allocation"],
  );
  t.like(JSON.parse(record), { node, vgName: "pool-0", bytes: 30 * GI });
});

test("a token bound to the reserver role in one namespace may reserve there on the public port, nowhere else", async (t) => {
  const { cluster } = ctx;
  await cluster.kubectlOk(["-n", "kube-system", "create", "serviceaccount", "csi"]);
  await cluster.kubectlOk([
    "-n",
    "app",
    "create",
    "rolebinding",
    "csi-reserve",
    "--clusterrole=nls-extender-reserver",
    "--serviceaccount=kube-system:csi",
  ]);
  const token = await tokenOf(cluster, "kube-system", "csi");
  const node = (await pvcJson("app", "data")).metadata.annotations!["volume.kubernetes.io/selected-node"]!;
  const again = await waitFor("RBAC to allow the new binding", async () => {
    const r = await call(reservePath("app", "data", node), { token });
    return r.status === 200 ? r : undefined;
  });
  t.like(JSON.parse(again.body), { node, persistentVolumeClaim: "app/data" });
  const elsewhere = await call(reservePath("other", "data", node), { token });
  t.is(elsewhere.status, 403);
  // Not kube-scheduler's verb either.
  const filter = await call("/scheduler/predicates", {
    token,
    body: JSON.stringify({ Pod: localPod("app", "x", []), NodeNames: NODES }),
  });
  t.is(filter.status, 403);
  // kube-scheduler's certificate, the other way round.
  t.is((await call(reservePath("app", "data", node), { client: ctx.scheduler })).status, 403);
});
