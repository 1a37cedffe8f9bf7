import test from "ava";
import { mkdtempSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StartupError, type Kubeconfig } from "@nls/daemon";
import { FakeApiServer } from "../../testing/fake-api-server.js";
import { apiEndpoint } from "./api-endpoint.js";
import { KubeError } from "./client.js";
import { HttpKube } from "./http-kube.js";

const dir = mkdtempSync(join(tmpdir(), "nls-endpoint-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function kubeconfig(
  cluster: Partial<Kubeconfig["clusters"][number]>,
  user: Partial<Kubeconfig["users"][number]>,
): Kubeconfig {
  return {
    clusters: [{ name: "c", server: "https://api.example:6443", skipTLSVerify: false, ...cluster }],
    users: [{ name: "u", ...user }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  };
}

const ca = file("ca.crt", "CA PEM");
const cert = file("client.crt", "CERT PEM");
const key = file("client.key", "KEY PEM");
const tokenPath = file("token", "from-file\n");

const endpoints: Array<{
  title: string;
  kc: Kubeconfig;
  authorization?: string;
  tls: Record<string, unknown>;
  headers?: Record<string, string>;
}> = [
  {
    title: "token and CA file",
    kc: kubeconfig({ caFile: ca }, { token: "abc" }),
    authorization: "Bearer abc",
    tls: { ca: "CA PEM", rejectUnauthorized: true },
  },
  {
    title: "client certificate and key files, tls-server-name, impersonation",
    kc: kubeconfig(
      { caData: Buffer.from("CA DATA").toString("base64"), tlsServerName: "api.internal" },
      { certFile: cert, keyFile: key, impersonateUser: "someone" },
    ),
    tls: { ca: "CA DATA", cert: "CERT PEM", key: "KEY PEM", rejectUnauthorized: true, servername: "api.internal" },
    headers: { "Impersonate-User": "someone" },
  },
  {
    title: "client certificate data",
    kc: kubeconfig({}, { certData: Buffer.from("C").toString("base64"), keyData: Buffer.from("K").toString("base64") }),
    tls: { cert: "C", key: "K", rejectUnauthorized: true },
  },
  {
    title: "the service account's token file (in a pod), read when used",
    kc: kubeconfig({ caFile: ca }, { authProvider: { name: "tokenFile", config: { tokenFile: tokenPath } } }),
    authorization: "Bearer from-file",
    tls: { ca: "CA PEM", rejectUnauthorized: true },
  },
  {
    title: "basic auth, insecure-skip-tls-verify over plain HTTP",
    kc: kubeconfig({ server: "http://127.0.0.1:8080/", skipTLSVerify: true }, { username: "u", password: "p" }),
    authorization: `Basic ${Buffer.from("u:p").toString("base64")}`,
    tls: { rejectUnauthorized: false },
  },
];
for (const c of endpoints) {
  test(`apiEndpoint: ${c.title}`, async (t) => {
    const e = apiEndpoint(c.kc);
    t.is(await e.credentials.authorization(), c.authorization);
    const tls = Object.fromEntries(
      Object.entries(e.tls)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : v]),
    );
    t.deepEqual(tls, c.tls);
    t.deepEqual(e.headers, c.headers ?? {});
    t.false(e.server.endsWith("/"));
  });
}

const refusals: Array<{ title: string; kc: Kubeconfig; message: RegExp }> = [
  {
    title: "an exec plugin",
    kc: kubeconfig({}, { exec: { command: "get-token" } }),
    message: /an exec credential plugin is not supported by nls-agent/,
  },
  {
    title: "an auth provider",
    kc: kubeconfig({}, { authProvider: { name: "oidc", config: {} } }),
    message: /auth-provider oidc is not supported/,
  },
  {
    title: "a proxy",
    kc: kubeconfig({ proxyUrl: "http://proxy:3128" }, { token: "t" }),
    message: /proxy-url is not supported/,
  },
  {
    title: "plain HTTP without insecure-skip-tls-verify",
    kc: kubeconfig({ server: "http://10.0.0.1" }, {}),
    message: /plain HTTP but insecure-skip-tls-verify is not set/,
  },
  {
    title: "a CA file that cannot be read",
    kc: kubeconfig({ caFile: join(dir, "missing.crt") }, {}),
    message: /cannot read certificate-authority .*missing\.crt: ENOENT/,
  },
  { title: "no cluster", kc: { ...kubeconfig({}, {}), clusters: [] }, message: /names no cluster/ },
];
for (const c of refusals) {
  test(`apiEndpoint refuses ${c.title} at start`, (t) => {
    t.throws(() => apiEndpoint(c.kc), { instanceOf: StartupError, message: c.message });
  });
}

/** A client of `api` whose token is read from a file, as in a pod. */
async function withTokenFile(t: import("ava").ExecutionContext, token: string) {
  const api = await FakeApiServer.start();
  t.teardown(() => api.stop());
  const path = join(mkdtempSync(join(tmpdir(), "nls-token-")), "token");
  writeFileSync(path, token);
  const kc = kubeconfig(
    { server: api.url, skipTLSVerify: true },
    { authProvider: { name: "tokenFile", config: { tokenFile: path } } },
  );
  api.seed("/api/v1/nodes/n1", { metadata: { name: "n1", uid: "u1" } });
  return { api, path, kube: new HttpKube(apiEndpoint(kc)) };
}

test("token file: a rotated token (the kubelet swaps the file) is used from the next request on", async (t) => {
  const { api, path, kube } = await withTokenFile(t, "old");
  api.tokens.add("old");
  await kube.getNode("n1");
  writeFileSync(`${path}.new`, "new");
  renameSync(`${path}.new`, path);
  api.tokens.clear();
  api.tokens.add("new");
  await kube.getNode("n1");
  t.deepEqual(
    api.requests.map((r) => r.authorization),
    ["Bearer old", "Bearer new"],
  );
});

test("token file: after a 401 the file is read again and the request retried once with the new token", async (t) => {
  const { api, path, kube } = await withTokenFile(t, "tok1");
  // Same inode, size and mtime throughout: nothing tells the client the file changed but the server's 401.
  const fixed = new Date("2026-01-01T00:00:00Z");
  utimesSync(path, fixed, fixed);
  api.tokens.add("tok1");
  await kube.getNode("n1");
  writeFileSync(path, "tok2");
  utimesSync(path, fixed, fixed);
  api.tokens.clear();
  api.tokens.add("tok2");
  t.deepEqual(await kube.getNode("n1"), { name: "n1", uid: "u1", labels: {} });
  t.deepEqual(
    api.requests.map((r) => r.authorization),
    ["Bearer tok1", "Bearer tok1", "Bearer tok2"],
  );
  // A watch is retried the same way.
  api.seed("/apis/csi.aliyun.com/v1alpha1/nodelocalstorages/n1", {
    metadata: { name: "n1" },
    spec: { nodeName: "n1" },
  });
  writeFileSync(path, "tok3");
  utimesSync(path, fixed, fixed);
  api.tokens.clear();
  api.tokens.add("tok3");
  const seen: string[] = [];
  const handle = await kube.watchNls(
    "n1",
    (type) => seen.push(type),
    () => seen.push("done"),
  );
  for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(seen, ["ADDED"]);
  handle.stop();
});

test("token file: a 401 with an unchanged file is a KubeError 401, not retried", async (t) => {
  const { api, kube } = await withTokenFile(t, "revoked");
  api.tokens.add("other");
  const err = await t.throwsAsync(kube.getNode("n1"), { instanceOf: KubeError });
  t.is(err?.code, 401);
  t.is(err?.message, "get node n1: HTTP 401: Unauthorized");
  t.is(api.requests.length, 1);
});

test("a static token refused with 401 is a KubeError 401, not retried", async (t) => {
  const api = await FakeApiServer.start();
  t.teardown(() => api.stop());
  api.tokens.add("other");
  const kube = new HttpKube(apiEndpoint(kubeconfig({ server: api.url, skipTLSVerify: true }, { token: "t" })));
  const err = await t.throwsAsync(kube.getNls("n1"), { instanceOf: KubeError });
  t.is(err?.code, 401);
  t.is(api.requests.length, 1);
});
