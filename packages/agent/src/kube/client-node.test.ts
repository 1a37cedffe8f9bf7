import test from "ava";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import type { NodeLocalStorage } from "@nls/api";
import { ClientNodeKube, eventNamespaceForClusterScoped } from "./client-node.js";
import { KubeError } from "./client.js";

/**
 * The client-node implementation against a scripted HTTP server: which paths, verbs and bodies it
 * sends and how it reads answers. (A real API server is exercised by the end-to-end issue.)
 */

interface Seen {
  method: string;
  url: string;
  body: unknown;
}
type Handler = (req: IncomingMessage, body: unknown) => { status: number; body: unknown; raw?: string };

async function apiServer(t: { teardown(fn: () => Promise<void>): void }, handler: Handler) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      const body = data ? JSON.parse(data) : undefined;
      seen.push({ method: req.method ?? "", url: req.url ?? "", body });
      const reply = handler(req, body);
      res.writeHead(reply.status, { "Content-Type": "application/json" });
      res.end(reply.raw ?? JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: "c", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  });
  return { kube: new ClientNodeKube(kc), seen };
}

const status = (code: number, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  message,
  reason: code === 409 ? "Conflict" : "NotFound",
  code,
});

test("getNls: 404 is undefined, the object otherwise", async (t) => {
  const { kube, seen } = await apiServer(t, (req) =>
    req.url?.endsWith("/n1")
      ? { status: 200, body: { metadata: { name: "n1", resourceVersion: "5" }, spec: { nodeName: "n1" } } }
      : { status: 404, body: status(404, "not found") },
  );
  t.is(await kube.getNls("missing"), undefined);
  const nls = await kube.getNls("n1");
  t.is(nls?.metadata.resourceVersion, "5");
  t.deepEqual(
    seen.map((s) => `${s.method} ${s.url}`),
    [
      "GET /apis/csi.aliyun.com/v1alpha1/nodelocalstorages/missing",
      "GET /apis/csi.aliyun.com/v1alpha1/nodelocalstorages/n1",
    ],
  );
});

test("replaceNlsStatus: PUT on /status with the resourceVersion; 409 becomes KubeError 409 with the server's message", async (t) => {
  let conflict = false;
  const { kube, seen } = await apiServer(t, (_req, body) =>
    conflict
      ? { status: 409, body: status(409, 'Operation cannot be fulfilled on nodelocalstorages.csi.aliyun.com "n1"') }
      : { status: 200, body: { ...(body as object), metadata: { name: "n1", resourceVersion: "6" } } },
  );
  const nls: NodeLocalStorage = {
    metadata: { name: "n1", resourceVersion: "5" },
    spec: { nodeName: "n1" },
    status: { nodeStorageInfo: { phase: "Running" } },
  };
  const saved = await kube.replaceNlsStatus(nls);
  t.is(saved.metadata.resourceVersion, "6");
  t.is(seen[0]!.method, "PUT");
  t.is(seen[0]!.url, "/apis/csi.aliyun.com/v1alpha1/nodelocalstorages/n1/status");
  t.like(seen[0]!.body as object, {
    apiVersion: "csi.aliyun.com/v1alpha1",
    kind: "NodeLocalStorage",
    metadata: { name: "n1", resourceVersion: "5" },
    status: { nodeStorageInfo: { phase: "Running" } },
  });

  conflict = true;
  const err = await t.throwsAsync(kube.replaceNlsStatus(nls), { instanceOf: KubeError });
  t.is(err?.code, 409);
  t.regex(err?.message ?? "", /update status of nodelocalstorage n1: HTTP 409: Operation cannot be fulfilled/);
  await t.throwsAsync(kube.replaceNlsStatus({ ...nls, metadata: { name: "n1" } }), { message: /no resourceVersion/ });
});

test("createNls: POST to the collection with the ownerReference", async (t) => {
  const { kube, seen } = await apiServer(t, (_req, body) => ({ status: 201, body }));
  await kube.createNls({
    metadata: { name: "n1", ownerReferences: [{ apiVersion: "v1", kind: "Node", name: "n1", uid: "u1" }] },
    spec: { nodeName: "n1" },
  });
  t.is(seen[0]!.method, "POST");
  t.is(seen[0]!.url, "/apis/csi.aliyun.com/v1alpha1/nodelocalstorages");
  t.like(seen[0]!.body as object, {
    kind: "NodeLocalStorage",
    metadata: { ownerReferences: [{ kind: "Node", uid: "u1" }] },
  });
});

test("getNode and getInitConfig read the right paths", async (t) => {
  const { kube, seen } = await apiServer(t, (req) =>
    req.url === "/api/v1/nodes/n1"
      ? {
          status: 200,
          body: { kind: "Node", apiVersion: "v1", metadata: { name: "n1", uid: "u1", labels: { a: "b" } } },
        }
      : { status: 404, body: status(404, "nope") },
  );
  t.deepEqual(await kube.getNode("n1"), { name: "n1", uid: "u1", labels: { a: "b" } });
  t.is(await kube.getInitConfig("open-local"), undefined);
  t.is(seen[1]!.url, "/apis/csi.aliyun.com/v1alpha1/nodelocalstorageinitconfigs/open-local");
  const err = await t.throwsAsync(kube.getNode("gone"), { instanceOf: KubeError });
  t.is(err?.code, 404);
});

test("leases: MicroTime with six fractional digits, Node owner, replace by name with resourceVersion", async (t) => {
  const { kube, seen } = await apiServer(t, (_req, body) => ({
    status: 200,
    body: { ...(body as object), metadata: { ...(body as { metadata: object }).metadata, resourceVersion: "10" } },
  }));
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
  t.is(seen[0]!.method, "POST");
  t.is(seen[0]!.url, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases");
  t.like(seen[0]!.body as object, {
    metadata: { name: "nls-agent-n1", ownerReferences: [{ apiVersion: "v1", kind: "Node", name: "n1", uid: "u1" }] },
    spec: { holderIdentity: "n1", leaseDurationSeconds: 40, renewTime: "2026-05-01T10:00:00.123000Z" },
  });
  t.is(created.resourceVersion, "10");
  t.is(created.renewTime.toISOString(), renewTime.toISOString());
  t.deepEqual(created.owner, { name: "n1", uid: "u1", labels: {} });

  await kube.replaceLease({ ...created, renewTime: new Date("2026-05-01T10:00:10Z") });
  t.is(seen[1]!.method, "PUT");
  t.is(seen[1]!.url, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/nls-agent-n1");
  t.like(seen[1]!.body as object, {
    metadata: { resourceVersion: "10" },
    spec: { renewTime: "2026-05-01T10:00:10.000000Z" },
  });
});

test("createEvent: a new-style core/v1 Event about the NLS, valid for a cluster-scoped object in kube-system", async (t) => {
  const { kube, seen } = await apiServer(t, (_req, body) => ({ status: 201, body }));
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
  t.is(seen[0]!.url, "/api/v1/namespaces/kube-system/events");
  const body = seen[0]!.body as Record<string, unknown>;
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
  t.is(seen[1]!.url, "/api/v1/namespaces/default/events");
  t.like(seen[1]!.body as object, { action: "Reconcile" });
  t.is((seen[1]!.body as { message: string }).message.length, 1024);
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

test("watchNls: events for the named object, and onDone when the server ends the stream", async (t) => {
  const { kube, seen } = await apiServer(t, () => ({
    status: 200,
    body: undefined,
    raw:
      JSON.stringify({ type: "ADDED", object: { metadata: { name: "n1", resourceVersion: "1" } } }) +
      "\n" +
      JSON.stringify({ type: "MODIFIED", object: { metadata: { name: "n1", resourceVersion: "2" } } }) +
      "\n",
  }));
  const events: string[] = [];
  await new Promise<void>((resolve) => {
    void kube.watchNls(
      "n1",
      (type, obj) => events.push(`${type} ${obj.metadata.resourceVersion}`),
      () => resolve(),
    );
  });
  t.deepEqual(events, ["ADDED 1", "MODIFIED 2"]);
  t.regex(seen[0]!.url, /^\/apis\/csi\.aliyun\.com\/v1alpha1\/nodelocalstorages\?.*fieldSelector=metadata\.name%3Dn1/);
  t.regex(seen[0]!.url, /watch=true/);
});

test("an unreachable server is a plain Error naming the call, not a KubeError", async (t) => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "http://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u" }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  });
  const err = await t.throwsAsync(new ClientNodeKube(kc).getNls("n1"));
  t.false(err instanceof KubeError);
  t.regex(err?.message ?? "", /^get nodelocalstorage n1: .*ECONNREFUSED/);
});

test("a call the server never answers times out with an error naming it", async (t) => {
  const server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: "c", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: "u" }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  });
  await t.throwsAsync(new ClientNodeKube(kc, { timeoutMs: 50 }).getNode("n1"), {
    message: "get node n1: no answer within 0.05s",
  });
});
