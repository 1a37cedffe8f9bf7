import test, { type ExecutionContext } from "ava";
import type { Kubeconfig } from "@nls/daemon";
import type { NodeLocalStorage } from "@nls/api";
import { FakeApiServer, statusBody } from "../../testing/fake-api-server.js";
import { apiEndpoint } from "./api-endpoint.js";
import { KubeError, type AgentKubeClient, type WatchEventType } from "./client.js";
import { eventNamespaceForClusterScoped, HttpKube } from "./http-kube.js";

/**
 * The agent's HTTP client against a fake API server: the paths, verbs and bodies it sends, how it reads
 * answers and errors, and its watches. (A real API server is exercised by the end-to-end suites.)
 */

const NLS = "/apis/csi.aliyun.com/v1alpha1/nodelocalstorages";
const LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

export function tokenKubeconfig(
  server: string,
  user: Kubeconfig["users"][number] = { name: "u", token: "t" },
): Kubeconfig {
  return {
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ ...user, name: "u" }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  };
}

async function fake(t: ExecutionContext, opts: { timeoutMs?: number } = {}) {
  const api = await FakeApiServer.start();
  t.teardown(() => api.stop());
  const kube = new HttpKube(apiEndpoint(tokenKubeconfig(api.url)), opts);
  return { api, kube };
}

const nlsObject = (name: string, rv?: string): NodeLocalStorage => ({
  metadata: { name, ...(rv ? { resourceVersion: rv } : {}) },
  spec: { nodeName: name },
});

test("getNls: undefined when missing, the stored object otherwise", async (t) => {
  const { api, kube } = await fake(t);
  const stored = api.seed(`${NLS}/n1`, nlsObject("n1"));
  t.is(await kube.getNls("missing"), undefined);
  t.deepEqual(await kube.getNls("n1"), stored as NodeLocalStorage);
  t.deepEqual(
    api.requests.map((s) => `${s.method} ${s.url} ${s.authorization}`),
    [`GET ${NLS}/missing Bearer t`, `GET ${NLS}/n1 Bearer t`],
  );
});

test("createNls: POST to the collection with kind and ownerReference; a taken name is KubeError 409", async (t) => {
  const { api, kube } = await fake(t);
  const created = await kube.createNls({
    metadata: { name: "n1", ownerReferences: [{ apiVersion: "v1", kind: "Node", name: "n1", uid: "u1" }] },
    spec: { nodeName: "n1" },
  });
  t.truthy(created.metadata.resourceVersion);
  t.is(api.requests[0]!.method, "POST");
  t.is(api.requests[0]!.url, NLS);
  t.like(api.requests[0]!.body as object, {
    apiVersion: "csi.aliyun.com/v1alpha1",
    kind: "NodeLocalStorage",
    metadata: { ownerReferences: [{ kind: "Node", uid: "u1" }] },
  });
  const err = await t.throwsAsync(kube.createNls(nlsObject("n1")), { instanceOf: KubeError });
  t.is(err?.code, 409);
  t.regex(err?.message ?? "", /^create nodelocalstorage n1: HTTP 409: nodelocalstorages "n1" already exists$/);
});

test("replaceNlsStatus: PUT on /status with the resourceVersion read; a stale one is 409 and changes nothing", async (t) => {
  const { api, kube } = await fake(t);
  const stored = api.seed(`${NLS}/n1`, nlsObject("n1")) as NodeLocalStorage;
  const nls = { ...stored, status: { nodeStorageInfo: { phase: "Running" } } } as NodeLocalStorage;
  const saved = await kube.replaceNlsStatus(nls);
  t.not(saved.metadata.resourceVersion, stored.metadata.resourceVersion);
  t.deepEqual(saved.status, nls.status);
  t.is(api.requests[0]!.method, "PUT");
  t.is(api.requests[0]!.url, `${NLS}/n1/status`);
  t.like(api.requests[0]!.body as object, {
    apiVersion: "csi.aliyun.com/v1alpha1",
    kind: "NodeLocalStorage",
    metadata: { name: "n1", resourceVersion: stored.metadata.resourceVersion },
    status: { nodeStorageInfo: { phase: "Running" } },
  });

  // Written from the old read: the server has moved on.
  const stale = { ...nls, status: { nodeStorageInfo: { phase: "Pending" } } } as NodeLocalStorage;
  const err = await t.throwsAsync(kube.replaceNlsStatus(stale), { instanceOf: KubeError });
  t.is(err?.code, 409);
  t.regex(err?.message ?? "", /^update status of nodelocalstorage n1: HTTP 409: Operation cannot be fulfilled/);
  t.deepEqual(api.objects.get(`${NLS}/n1`)!.status, nls.status);
  await t.throwsAsync(kube.replaceNlsStatus({ ...nls, metadata: { name: "n1" } }), { message: /no resourceVersion/ });
  t.is(api.writes().length, 2);
});

test("getNode and getInitConfig read the right paths; a missing Node is KubeError 404", async (t) => {
  const { api, kube } = await fake(t);
  api.seed("/api/v1/nodes/n1", {
    kind: "Node",
    apiVersion: "v1",
    metadata: { name: "n1", uid: "u1", labels: { a: "b" } },
  });
  api.seed("/apis/csi.aliyun.com/v1alpha1/nodelocalstorageinitconfigs/open-local", {
    metadata: { name: "open-local" },
    spec: { globalConfig: {} },
  });
  t.deepEqual(await kube.getNode("n1"), { name: "n1", uid: "u1", labels: { a: "b" } });
  t.like(await kube.getInitConfig("open-local"), { spec: { globalConfig: {} } });
  t.is(await kube.getInitConfig("other"), undefined);
  t.is(api.requests[2]!.url, "/apis/csi.aliyun.com/v1alpha1/nodelocalstorageinitconfigs/other");
  const err = await t.throwsAsync(kube.getNode("gone"), { instanceOf: KubeError });
  t.is(err?.code, 404);
  t.is(err?.message, 'get node gone: HTTP 404: nodes "gone" not found');
});

test("leases: MicroTime with six fractional digits, Node owner, replace by name with resourceVersion, stale is 409", async (t) => {
  const { api, kube } = await fake(t);
  t.is(await kube.getLease("kube-system", "nls-agent-n1"), undefined);
  const renewTime = new Date("2026-05-01T10:00:00.123Z");
  const created = await kube.createLease({
    namespace: "kube-system",
    name: "nls-agent-n1",
    holderIdentity: "n1",
    leaseDurationSeconds: 40,
    acquireTime: renewTime,
    renewTime,
    owner: { name: "n1", uid: "u1", labels: {} },
  });
  t.is(api.requests[1]!.method, "POST");
  t.is(api.requests[1]!.url, LEASES);
  t.like(api.requests[1]!.body as object, {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "nls-agent-n1", ownerReferences: [{ apiVersion: "v1", kind: "Node", name: "n1", uid: "u1" }] },
    spec: {
      holderIdentity: "n1",
      leaseDurationSeconds: 40,
      acquireTime: "2026-05-01T10:00:00.123000Z",
      renewTime: "2026-05-01T10:00:00.123000Z",
    },
  });
  t.truthy(created.resourceVersion);
  t.is(created.renewTime.toISOString(), renewTime.toISOString());
  t.deepEqual(created.owner, { name: "n1", uid: "u1", labels: {} });
  t.deepEqual(await kube.getLease("kube-system", "nls-agent-n1"), created);
  await t.throwsAsync(kube.createLease(created), { instanceOf: KubeError, message: /HTTP 409/ });

  const renewed = await kube.replaceLease({ ...created, renewTime: new Date("2026-05-01T10:00:10Z") });
  const put = api.requests.find((r) => r.method === "PUT")!;
  t.is(put.url, `${LEASES}/nls-agent-n1`);
  t.like(put.body as object, {
    metadata: { resourceVersion: created.resourceVersion },
    spec: { renewTime: "2026-05-01T10:00:10.000000Z" },
  });
  t.not(renewed.resourceVersion, created.resourceVersion);
  const err = await t.throwsAsync(kube.replaceLease(created), { instanceOf: KubeError });
  t.is(err?.code, 409);
  t.regex(err?.message ?? "", /^renew lease kube-system\/nls-agent-n1: HTTP 409: /);
});

test("createEvent: a new-style core/v1 Event about the NLS, valid for a cluster-scoped object in kube-system", async (t) => {
  const { api, kube } = await fake(t);
  const nls: NodeLocalStorage = {
    metadata: { name: "n1", uid: "nls-uid", resourceVersion: "7" },
    spec: { nodeName: "n1" },
  };
  await kube.createEvent("kube-system", nls, {
    type: "Warning",
    reason: "InitRefused",
    action: "InitVolumeGroup",
    message: "VG pool0 not created: /dev/vdb: mounted",
  });
  t.is(api.requests[0]!.url, "/api/v1/namespaces/kube-system/events");
  const body = api.requests[0]!.body as Record<string, unknown>;
  t.like(body, {
    metadata: { generateName: "n1.", namespace: "kube-system" },
    involvedObject: { apiVersion: "csi.aliyun.com/v1alpha1", kind: "NodeLocalStorage", name: "n1", uid: "nls-uid" },
    type: "Warning",
    reason: "InitRefused",
    action: "InitVolumeGroup",
    reportingComponent: "nls-agent",
    reportingInstance: "nls-agent-n1",
    source: { component: "nls-agent", host: "n1" },
    count: 1,
  });
  // The API server's rule for cluster-scoped objects: eventTime set (MicroTime), namespace default or kube-system.
  t.regex(String(body.eventTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  t.is((body.involvedObject as { namespace?: string }).namespace, undefined);

  await kube.createEvent("nls-system", nls, {
    type: "Normal",
    reason: "VolumeGroupCreated",
    message: "m".repeat(5000),
  });
  t.is(api.requests[1]!.url, "/api/v1/namespaces/default/events");
  t.like(api.requests[1]!.body as object, { action: "Reconcile" });
  t.is((api.requests[1]!.body as { message: string }).message.length, 1024);
});

const eventNamespaces: [string, string][] = [
  ["kube-system", "kube-system"],
  ["default", "default"],
  ["nls-system", "default"],
];
for (const [preferred, want] of eventNamespaces) {
  test(`eventNamespaceForClusterScoped(${preferred}) = ${want}`, (t) => {
    t.is(eventNamespaceForClusterScoped(preferred), want);
  });
}

/** Every call of the interface, with the words its errors start with. */
const calls: Array<{ what: string; call: (k: AgentKubeClient) => Promise<unknown> }> = [
  { what: "get nodelocalstorage n1", call: (k) => k.getNls("n1") },
  { what: "create nodelocalstorage n1", call: (k) => k.createNls(nlsObject("n1")) },
  { what: "update status of nodelocalstorage n1", call: (k) => k.replaceNlsStatus(nlsObject("n1", "5")) },
  { what: "get nodelocalstorageinitconfig c", call: (k) => k.getInitConfig("c") },
  { what: "get node n1", call: (k) => k.getNode("n1") },
  {
    what: "create event R for nodelocalstorage n1",
    call: (k) => k.createEvent("default", nlsObject("n1"), { type: "Normal", reason: "R", message: "m" }),
  },
  { what: "get lease ns/l", call: (k) => k.getLease("ns", "l") },
  {
    what: "create lease ns/l",
    call: (k) =>
      k.createLease({
        namespace: "ns",
        name: "l",
        holderIdentity: "h",
        leaseDurationSeconds: 1,
        renewTime: new Date(),
      }),
  },
  {
    what: "renew lease ns/l",
    call: (k) =>
      k.replaceLease({
        namespace: "ns",
        name: "l",
        resourceVersion: "1",
        holderIdentity: "h",
        leaseDurationSeconds: 1,
        renewTime: new Date(),
      }),
  },
];
const httpErrors: Array<{ status: number; body?: unknown; raw?: string; message: string }> = [
  {
    status: 403,
    body: statusBody(403, "Forbidden", 'nodes "n1" is forbidden: User "x" cannot get'),
    message: 'nodes "n1" is forbidden: User "x" cannot get',
  },
  { status: 500, raw: "etcd is down", message: "etcd is down" },
  { status: 429, body: statusBody(429, "TooManyRequests", "slow down"), message: "slow down" },
];
for (const c of calls) {
  for (const e of httpErrors) {
    test(`${c.what}: HTTP ${e.status} is a KubeError with the code and the server's message`, async (t) => {
      const { api, kube } = await fake(t);
      api.inject(() => true, { status: e.status, body: e.body, raw: e.raw });
      const err = await t.throwsAsync(c.call(kube), { instanceOf: KubeError });
      t.is(err?.code, e.status);
      t.is(err?.message, `${c.what}: HTTP ${e.status}: ${e.message}`);
    });
  }
  test(`${c.what}: a dropped connection is a plain Error naming the call`, async (t) => {
    const { api, kube } = await fake(t);
    api.inject(() => true, "drop");
    const err = await t.throwsAsync(c.call(kube));
    t.false(err instanceof KubeError);
    t.regex(err?.message ?? "", new RegExp(`^${c.what}: (socket hang up|.*ECONNRESET)`));
  });
  test(`${c.what}: no answer is an Error after the timeout`, async (t) => {
    const { api, kube } = await fake(t, { timeoutMs: 50 });
    api.inject(() => true, "hang");
    await t.throwsAsync(c.call(kube), { message: `${c.what}: no answer within 0.05s` });
  });
}

test("an unreachable server is a plain Error naming the call, not a KubeError", async (t) => {
  const err = await t.throwsAsync(new HttpKube(apiEndpoint(tokenKubeconfig("http://127.0.0.1:1"))).getNls("n1"));
  t.false(err instanceof KubeError);
  t.regex(err?.message ?? "", /^get nodelocalstorage n1: .*ECONNREFUSED/);
});

/** Starts a watch of `n1` and records what it sees; `done` resolves with onDone's argument. */
async function watch(kube: AgentKubeClient, name = "n1") {
  const events: string[] = [];
  let resolveDone!: (err: unknown) => void;
  const done = new Promise<unknown>((r) => (resolveDone = r));
  let doneCalls = 0;
  const handle = await kube.watchNls(
    name,
    (type: WatchEventType, obj) => events.push(`${type} ${obj.metadata.name} ${obj.metadata.resourceVersion}`),
    (err) => {
      doneCalls++;
      resolveDone(err);
    },
  );
  return { events, done, handle, doneCalls: () => doneCalls };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

test("watchNls: the object as it is, then its changes; onDone once when the server ends the stream", async (t) => {
  const { api, kube } = await fake(t);
  const first = api.seed(`${NLS}/n1`, nlsObject("n1"));
  api.seed(`${NLS}/n2`, nlsObject("n2"));
  const w = await watch(kube);
  const changed = api.modify(`${NLS}/n1`, (o) => (o.spec!.listConfig = {}));
  api.modify(`${NLS}/n2`, (o) => (o.spec!.listConfig = {}));
  await until(() => w.events.length >= 2);
  api.endWatches();
  t.is(await w.done, undefined);
  t.deepEqual(w.events, [
    `ADDED n1 ${first.metadata.resourceVersion}`,
    `MODIFIED n1 ${changed.metadata.resourceVersion}`,
  ]);
  t.regex(
    api.requests[0]!.url,
    new RegExp(`^${NLS}\\?watch=true&fieldSelector=metadata\\.name%3Dn1&allowWatchBookmarks=false$`),
  );
  t.is(w.doneCalls(), 1);
});

test("watchNls: a watch started after one ended sees the object as it is now (what changed in between is not lost)", async (t) => {
  const { api, kube } = await fake(t);
  api.seed(`${NLS}/n1`, nlsObject("n1"));
  const w1 = await watch(kube);
  await until(() => w1.events.length >= 1);
  api.endWatches();
  await w1.done;
  const now = api.modify(`${NLS}/n1`, (o) => (o.spec!.listConfig = { vgs: { include: ["a"] } }));
  const w2 = await watch(kube);
  await until(() => w2.events.length >= 1);
  t.deepEqual(w2.events, [`ADDED n1 ${now.metadata.resourceVersion}`]);
  w2.handle.stop();
});

const watchEnds: Array<{ title: string; send: (api: FakeApiServer) => void; code?: number; message: RegExp }> = [
  {
    title: "an ERROR event (410 Gone) ends it with KubeError 410",
    send: (api) =>
      api.sendToWatches(
        JSON.stringify({ type: "ERROR", object: statusBody(410, "Expired", "too old resource version: 5 (9)") }),
      ),
    code: 410,
    message: /^watch of nodelocalstorage n1: HTTP 410: too old resource version: 5 \(9\)$/,
  },
  {
    title: "a line that is not JSON ends it with an Error",
    send: (api) => api.sendToWatches("{not json"),
    message: /^watch of nodelocalstorage n1: the server sent a line that is not JSON: \{not json$/,
  },
];
for (const c of watchEnds) {
  test(`watchNls: ${c.title}, and nothing after it is delivered`, async (t) => {
    const { api, kube } = await fake(t);
    api.seed(`${NLS}/n1`, nlsObject("n1"));
    const w = await watch(kube);
    await until(() => w.events.length >= 1);
    api.sendToWatches(JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "999" } } }));
    c.send(api);
    api.modify(`${NLS}/n1`, (o) => (o.spec!.listConfig = {}));
    const err = await w.done;
    t.regex((err as Error).message, c.message);
    if (c.code) t.is((err as KubeError).code, c.code);
    await new Promise((r) => setTimeout(r, 50));
    t.is(w.events.length, 1, "the BOOKMARK and everything after the end are not events");
    t.is(w.doneCalls(), 1);
  });
}

test("watchNls: a refused watch (HTTP 410, 403) ends at once with a KubeError", async (t) => {
  const { api, kube } = await fake(t);
  for (const code of [410, 403]) {
    api.inject((r) => r.url.includes("watch=true"), { status: code, body: statusBody(code, "X", `refused ${code}`) });
    const w = await watch(kube);
    const err = (await w.done) as KubeError;
    t.true(err instanceof KubeError);
    t.is(err.code, code);
    t.is(err.message, `watch of nodelocalstorage n1: HTTP ${code}: refused ${code}`);
  }
});

test("watchNls: stop() ends it without onDone; a dropped connection calls onDone with an error", async (t) => {
  const { api, kube } = await fake(t);
  api.seed(`${NLS}/n1`, nlsObject("n1"));
  const stopped = await watch(kube);
  await until(() => api.openWatches === 1);
  stopped.handle.stop();
  await until(() => api.openWatches === 0);
  t.is(api.openWatches, 0);
  t.is(stopped.doneCalls(), 0);

  api.inject((r) => r.url.includes("watch=true"), "drop");
  const dropped = await watch(kube);
  t.regex(((await dropped.done) as Error).message, /^watch of nodelocalstorage n1: (socket hang up|.*ECONNRESET)/);
});
