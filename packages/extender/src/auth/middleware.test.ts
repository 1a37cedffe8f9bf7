import test, { type Implementation } from "ava";
import { hasOpenssl, makeTestCa, pod, type Issued, type TestCa } from "@nls/testkit";
import { httpsCall, tlsExtender, type TlsHarness } from "../../testing/tls-server.js";
import { Access, type Reviews } from "./access.js";

/** RBAC as the fake API server sees it: kube-scheduler may schedule, the CSI's token may reserve. */
const reviews: Reviews = {
  async token(token) {
    return token === "csi-token"
      ? { user: "system:serviceaccount:kube-system:csi", groups: [], via: "token" }
      : token === "pod-token"
        ? { user: "system:serviceaccount:app:default", groups: [], via: "token" }
        : undefined;
  },
  async allowed(identity, verb) {
    return (
      (identity.user === "system:kube-scheduler" && verb === "schedule") ||
      (identity.user === "system:serviceaccount:kube-system:csi" && verb === "reserve")
    );
  },
};

const ctx = {} as { h: TlsHarness; foreignCa: TestCa; scheduler: Issued; stranger: Issued };
const ready = await hasOpenssl();

test.before(async () => {
  if (!ready) return;
  const ca = await makeTestCa("client-and-server-ca");
  ctx.foreignCa = await makeTestCa("foreign-ca");
  ctx.scheduler = await ca.client("scheduler", "system:kube-scheduler");
  ctx.stranger = await ctx.foreignCa.client("stranger", "system:kube-scheduler");
  ctx.h = await tlsExtender(new Access({ mode: "Webhook", tokenReview: true, reviews, now: Date.now }), ca);
});
test.after.always(async () => {
  await ctx.h?.close();
  await ctx.h?.ca.remove();
  await ctx.foreignCa?.remove();
});

const gated = (name: string, fn: Implementation<[]>) =>
  ready || process.env.NLS_REQUIRE_REAL_TOOLS === "1" ? test(name, fn) : test.skip(`${name} (no openssl)`, fn);

const filterBody = JSON.stringify({ Pod: pod("default", "p", []), Nodes: null, NodeNames: ["n1"] });
const call = (method: string, path: string, options: Parameters<typeof httpsCall>[4] = {}) =>
  httpsCall(ctx.h.server.port, ctx.h.ca.cert, method, path, options);
const reservePath = "/apis/scheduling/default/persistentvolumeclaims/data?nodeName=n1";

gated("kube-scheduler's client certificate may filter", async (t) => {
  const res = await call("POST", "/scheduler/predicates", { client: ctx.scheduler, body: filterBody });
  t.is(res.status, 200, res.body);
  t.deepEqual(JSON.parse(res.body).NodeNames, ["n1"]);
});

gated("no credentials, or a certificate of another CA: 401, in the extender's result shape", async (t) => {
  const none = await call("POST", "/scheduler/predicates", { body: filterBody });
  t.is(none.status, 401);
  t.regex(JSON.parse(none.body).Error, /no credentials/);
  const foreign = await call("POST", "/scheduler/priorities", { client: ctx.stranger, body: filterBody });
  t.is(foreign.status, 401);
  t.regex(JSON.parse(foreign.body).Error, /client certificate not accepted/);
});

gated("a token is held to its own verb: the CSI's may reserve, not filter; a pod's may do neither", async (t) => {
  const csi = { authorization: "Bearer csi-token" };
  const filter = await call("POST", "/scheduler/predicates", { headers: csi, body: filterBody });
  t.is(filter.status, 403);
  t.regex(JSON.parse(filter.body).Error, /system:serviceaccount:kube-system:csi may not schedule/);
  const reserve = await call("POST", reservePath, { headers: csi });
  t.is(reserve.status, 200, reserve.body);
  const pod = await call("POST", reservePath, { headers: { authorization: "Bearer pod-token" } });
  t.is(pod.status, 403);
  t.regex(pod.body, /may not reserve extenders.nls.csi.aliyun.com in namespace default/);
  t.is((await call("POST", reservePath, { client: ctx.scheduler })).status, 403, "kube-scheduler may not reserve");
});

gated("a refused client is answered before its body is read, and its connection closed", async (t) => {
  // 64 MiB announced, 1 KiB sent: only a server that refuses from the headers answers at all.
  const res = await call("POST", "/scheduler/predicates", { declaredBytes: 64 << 20 });
  t.is(res.status, 401);
  t.is(res.sent, 1024);
  t.is(res.headers.connection, "close");
});

gated("health, readiness and metrics need no credentials", async (t) => {
  for (const path of ["/healthz", "/readyz", "/metrics", "/version"]) {
    t.is((await call("GET", path)).status, 200, path);
  }
});
