import { request } from "node:http";
import test from "ava";
import { createLogger } from "@nls/daemon";
import { pvc, storageClass } from "@nls/testkit";
import { clusterWith } from "../../testing/cluster.js";
import { ExtenderMetrics } from "../metrics.js";
import type { RouteContext } from "../routes/context.js";
import { ADMISSION_PATH, createWebhookApp, listen } from "../server.js";

const R = "nls.csi.aliyun.com/local-storage";

async function start(t: { teardown(fn: () => Promise<void>): void }, maxBodyBytes = 1 << 20) {
  const store = clusterWith([], 0);
  store.applyStorageClass(storageClass("nfs", {}, "nfs.csi.k8s.io"));
  store.applyPvc(pvc("app", "data", { className: "lvm", size: "10Gi" }));
  store.applyPvc(pvc("app", "shared", { className: "nfs", size: "1Gi" }));
  const metrics = new ExtenderMetrics(store);
  const ctx = {
    store,
    metrics,
    log: createLogger("nls-extender", "silent"),
    maxBodyBytes,
    // A standby whose caches are live: the scheduler routes refuse it, the webhook does not.
    notReady: () => "standby: lease kube-system/nls-extender is held by another replica",
    notServing: () => "standby: lease kube-system/nls-extender is held by another replica",
  } as unknown as RouteContext;
  const server = await listen(createWebhookApp(ctx), 0, "127.0.0.1");
  t.teardown(() => server.close());
  /** The status for a body that declares `length` bytes (only its first bytes are sent). */
  const declared = (length: number) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: server.port,
          path: ADMISSION_PATH,
          method: "POST",
          headers: { "content-length": length },
        },
        (res) => {
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on("error", reject);
      req.write("{");
    });
  const post = (body: string) =>
    fetch(`http://127.0.0.1:${server.port}${ADMISSION_PATH}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
  return { post, metrics, declared };
}

const review = (claimName: string, operation = "CREATE") =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `uid-${claimName}`,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: "app",
      operation,
      object: {
        metadata: { name: "web-0", namespace: "app" },
        spec: {
          containers: [{ name: "c", image: "pause", resources: { requests: { cpu: "100m" } } }],
          volumes: [{ name: "d", persistentVolumeClaim: { claimName } }],
        },
      },
    },
  });

const metricText = async (metrics: ExtenderMetrics) => metrics.registry.metrics();

test("a pod with a local claim gets the JSONPatch that requests and limits the resource, from a standby too", async (t) => {
  const { post, metrics } = await start(t);
  const res = await post(review("data"));
  t.is(res.status, 200);
  const body = (await res.json()) as { apiVersion: string; kind: string; response: Record<string, unknown> };
  t.is(body.apiVersion, "admission.k8s.io/v1");
  t.is(body.kind, "AdmissionReview");
  t.like(body.response, { uid: "uid-data", allowed: true, patchType: "JSONPatch" });
  t.deepEqual(JSON.parse(Buffer.from(body.response.patch as string, "base64").toString()), [
    { op: "add", path: "/spec/containers/0/resources/requests/nls.csi.aliyun.com~1local-storage", value: "1" },
    { op: "add", path: "/spec/containers/0/resources/limits", value: { [R]: "1" } },
  ]);
  t.regex(await metricText(metrics), /^nls_extender_admission_pods_total\{marked="true"\} 1$/m);
});

test("a pod with another provisioner's claim is allowed unpatched", async (t) => {
  const { post, metrics } = await start(t);
  const res = await post(review("shared"));
  t.is(res.status, 200);
  t.deepEqual(await res.json(), {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    response: { uid: "uid-shared", allowed: true },
  });
  t.regex(await metricText(metrics), /^nls_extender_admission_pods_total\{marked="false"\} 1$/m);
});

test("an operation other than CREATE is allowed unpatched and not counted", async (t) => {
  const { post, metrics } = await start(t);
  const res = await post(review("data", "UPDATE"));
  t.is(res.status, 200);
  t.deepEqual(((await res.json()) as { response: unknown }).response, { uid: "uid-data", allowed: true });
  t.regex(await metricText(metrics), /^nls_extender_admission_pods_total\{marked="true"\} 0$/m);
});

const malformed: Array<[string, string, RegExp]> = [
  ["malformed JSON", "{not json", /malformed JSON/],
  ["an empty body", "", /request body is empty/],
  [
    "an AdmissionReview of a Deployment",
    review("data").replace('"kind":"Pod"', '"kind":"Deployment"'),
    /core Pod kind/,
  ],
  ["an AdmissionReview without a uid", review("data").replace('"uid":"uid-data"', '"uid":""'), /request.uid/],
];
for (const [title, body, message] of malformed) {
  test(`${title} is a 400, counted as a bad admission request`, async (t) => {
    const { post, metrics } = await start(t);
    const res = await post(body);
    t.is(res.status, 400);
    t.regex(await res.text(), message);
    t.regex(await metricText(metrics), /^nls_extender_bad_requests_total\{verb="admission"\} 1$/m);
  });
}

test("a body over the limit is a 413 before it is decoded", async (t) => {
  const { post, metrics } = await start(t, 1024);
  const res = await post(`{"pad":"${"x".repeat(4096)}"}`);
  t.is(res.status, 413);
  t.regex(await res.text(), /exceeds the limit of 1Ki/);
  t.regex(await metricText(metrics), /^nls_extender_bad_requests_total\{verb="admission"\} 1$/m);
});

test("however large --max-body-bytes, an AdmissionReview over 8 MiB is refused", async (t) => {
  const { declared } = await start(t, 64 << 20);
  t.is(await declared(9 << 20), 413);
});

test("only the admission path is served", async (t) => {
  const { post } = await start(t);
  const res = await fetch((await post("{}")).url.replace(ADMISSION_PATH, "/scheduler/predicates"), {
    method: "POST",
    body: "{}",
  });
  t.is(res.status, 404);
});
