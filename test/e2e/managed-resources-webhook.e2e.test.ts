/**
 * The default install keeps pods without local storage away from the extender, against the real
 * kube-apiserver (no MutatingAdmissionPolicy API: version 1.34's default) and kube-scheduler: deploy/
 * applied unchanged (its components/managed-resources-webhook), the built nls-extender with the
 * Deployment's webhook flags (its own certificate: --webhook-certificate=secret), and kube-scheduler with
 * deploy/scheduler/kube-scheduler-config.yaml. The API server calls the webhook through
 * its Service (webhook-endpoints.ts: aggregator routing, the slice written for the extender's process)
 * and verifies the certificate the extender issued against the caBundle the extender wrote.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "node:tls";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { gatedSerial } from "../gate.js";
import { caBundleComparison, keepsWebhookField } from "../deploy/ca-bundle-policy.js";
import { kustomize } from "../deploy/render.js";
import { crdsEstablished, e2eGate, freePort, run, startCluster, waitFor, type Cluster } from "./cluster.js";
import { startExtender, type ExtenderProcess } from "./daemons.js";
import { localPvc, localStorageClass } from "./local-volumes.js";
import { addStorageNode } from "./node-storage.js";
import { publishWebhookEndpoint } from "./webhook-endpoints.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const GI = 2 ** 30;
const RESOURCE = "nls.csi.aliyun.com/local-storage";
const SERVICE_NAME = "nls-extender-webhook.kube-system.svc";
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# managed-resources-webhook e2e skipped: ${gate.why}`);

const ctx = {} as {
  cluster: Cluster;
  extender: ExtenderProcess;
  extenderArgs: string[];
  port: number;
  webhookPort: number;
};
const apply = (obj: unknown) => ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));

async function metric(pattern: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ctx.port}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? NaN);
}
/** How many filter requests the extender has answered. */
const filterCalls = () => metric(/^nls_extender_request_duration_seconds_count\{verb="filter"\} (\d+)$/m);
/** How many pods the webhook has answered, marked or not. */
const admissions = async () =>
  (await metric(/^nls_extender_admission_pods_total\{marked="true"\} (\d+)$/m)) +
  (await metric(/^nls_extender_admission_pods_total\{marked="false"\} (\d+)$/m));

const pod = (name: string, volumes: object[]) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }], volumes },
});
const claimVolume = (claimName: string) => ({ name: "d", persistentVolumeClaim: { claimName } });

const getJson = async (kind: string, name: string) =>
  JSON.parse(await ctx.cluster.kubectlOk(["get", kind, name, "-o", "json"])) as {
    metadata: { annotations?: Record<string, string> };
    spec: { nodeName?: string; containers: Array<{ resources?: { requests?: object; limits?: object } }> };
  };
const selectedNode = async (claim: string) =>
  (await getJson("pvc", claim)).metadata.annotations?.["volume.kubernetes.io/selected-node"];
const marks = (p: Awaited<ReturnType<typeof getJson>>) => ({
  requests: (p.spec.containers[0]!.resources?.requests as Record<string, string> | undefined)?.[RESOURCE],
  limits: (p.spec.containers[0]!.resources?.limits as Record<string, string> | undefined)?.[RESOURCE],
});
/** A pod through admission without creating it (a server-side dry run is admitted like a create). */
const dryRun = async (name: string, volumes: object[]) => {
  const r = await ctx.cluster.kubectl(
    ["create", "--dry-run=server", "-o", "json", "-f", "-"],
    JSON.stringify(pod(name, volumes)),
  );
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Awaited<ReturnType<typeof getJson>>) : new Error(r.stderr);
};

/** The webhook's Secret and the configuration's caBundle, decoded. */
async function certificateState() {
  const secret = JSON.parse(
    await ctx.cluster.kubectlOk(["-n", "kube-system", "get", "secret", "nls-extender-webhook-tls", "-o", "json"]),
  ) as { metadata: { resourceVersion: string }; data?: Record<string, string> };
  const config = JSON.parse(
    await ctx.cluster.kubectlOk(["get", "mutatingwebhookconfiguration", "nls-local-storage-request", "-o", "json"]),
  ) as { webhooks: Array<{ clientConfig: { caBundle?: string } }> };
  const text = (b64: string | undefined) => (b64 ? Buffer.from(b64, "base64").toString() : undefined);
  return {
    resourceVersion: secret.metadata.resourceVersion,
    caCrt: text(secret.data?.["ca.crt"]),
    tlsCrt: text(secret.data?.["tls.crt"]),
    caBundle: text(config.webhooks[0]!.clientConfig.caBundle),
  };
}
const certificates = (bundle = "") =>
  (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );

/** The fingerprint of the certificate the webhook port serves now. */
const servedFingerprint = () =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(
      { host: "127.0.0.1", port: ctx.webhookPort, servername: SERVICE_NAME, rejectUnauthorized: false },
      () => {
        resolve(socket.getPeerX509Certificate()!.fingerprint256);
        socket.end();
      },
    );
    socket.on("error", reject);
  });

const startWebhookExtender = async (extra: string[] = []) =>
  (ctx.extender = await startExtender(ctx.cluster, ctx.port, { args: [...ctx.extenderArgs, ...extra] }));

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startCluster());
  [ctx.port, ctx.webhookPort] = [await freePort(), await freePort()];
  // deploy/ as shipped (its admission webhook included), unchanged: the Secret empty, the caBundle empty.
  const objects = await kustomize("");
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  await crdsEstablished(cluster);
  await publishWebhookEndpoint(cluster, ctx.webhookPort);
  await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
  for (const n of ["webhook-a", "webhook-b"]) {
    await addStorageNode(cluster, n, { vgs: [{ name: "pool-0", bytes: 100 * GI }] });
  }
  await apply(localStorageClass("nls-lvm"));
  await apply({ ...localStorageClass("elsewhere"), provisioner: "nfs.csi.k8s.io", parameters: {} });
  // The Deployment's webhook flags, with this test's port.
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "nls-extender")!;
  const args = (deployment as unknown as { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } })
    .spec.template.spec.containers[0]!.args;
  ctx.extenderArgs = args
    .filter((a) => a.startsWith("--webhook-"))
    .map((a) => a.replace(/^--webhook-port=.*/, `--webhook-port=${ctx.webhookPort}`));
  await startWebhookExtender();
  const config = parse(await readFile(join(root, "deploy/scheduler/kube-scheduler-config.yaml"), "utf8"));
  config.clientConnection.kubeconfig = "${KUBECONFIG}";
  config.leaderElection = { leaderElect: false };
  config.extenders[0].urlPrefix = `http://127.0.0.1:${ctx.port}/scheduler`;
  await cluster.startScheduler(stringify(config));
});

test.after.always(async () => {
  await ctx.extender?.stop();
  await ctx.cluster?.stop();
});

test("no operator step: the extender filled the shipped Secret and the caBundle, and the API server trusts what it serves", async (t) => {
  const state = await waitFor("the webhook's certificate and caBundle", async () => {
    const s = await certificateState();
    return s.tlsCrt && s.caBundle ? s : undefined;
  });
  const [ca, ...others] = certificates(state.caCrt);
  t.deepEqual(others, [], "one CA");
  t.is(state.caBundle, state.caCrt, "the caBundle is the Secret's CA");
  const serving = certificates(state.tlsCrt)[0]!;
  t.true(serving.checkIssued(ca!) && serving.verify(ca!.publicKey));
  t.regex(serving.subjectAltName ?? "", new RegExp(`DNS:${SERVICE_NAME.replaceAll(".", "\\.")}(,|$)`));
  await waitFor("the extender to serve the Secret's pair", async () =>
    (await servedFingerprint()) === serving.fingerprint256 ? true : undefined,
  );
  t.is(await metric(/^nls_extender_webhook_certificates_issued_total\{what="ca"\} (\d+)$/m), 1);
  // The API server's own call: a dry run of a pod with a claim comes back marked.
  const probe = await dryRun("probe-bootstrap", [claimVolume("not-yet")]);
  if (probe instanceof Error) return t.fail(probe.message);
  t.deepEqual(marks(probe), { requests: "1", limits: "1" });
});

test("the extender's own token may write the configuration's caBundle and nothing else of it (deploy/'s admission policy)", async (t) => {
  const kubeconfig = await ctx.cluster.serviceAccountKubeconfig("kube-system", "nls-extender");
  // Server-side dry runs: admitted like the real patch, nothing stored whatever the verdict.
  const patchAsExtender = (ops: object[]) =>
    run("kubectl", [
      "--kubeconfig",
      kubeconfig,
      "patch",
      "mutatingwebhookconfiguration",
      "nls-local-storage-request",
      "--dry-run=server",
      "--type=json",
      "-p",
      JSON.stringify(ops),
    ]);
  // The API server loads a new policy asynchronously; deploy/ was applied in before().
  const refused = await waitFor("the policy to refuse a failurePolicy change", async () => {
    const r = await patchAsExtender([{ op: "replace", path: "/webhooks/0/failurePolicy", value: "Ignore" }]);
    return r.exitCode !== 0 && /nls-extender-webhook-ca-bundle-only/.test(r.stderr) ? r : undefined;
  });
  t.regex(refused.stderr, /may only write the caBundle of a webhook configuration's webhooks/);
  for (const [what, ops] of [
    [
      "a URL of its choosing",
      [{ op: "replace", path: "/webhooks/0/clientConfig", value: { url: "https://203.0.113.9/x" } }],
    ],
    ["every pod matched", [{ op: "remove", path: "/webhooks/0/matchConditions" }]],
    ["kube-system matched", [{ op: "replace", path: "/webhooks/0/namespaceSelector", value: {} }]],
  ] as const) {
    const r = await patchAsExtender([...ops]);
    t.not(r.exitCode, 0, what);
    t.regex(r.stderr, /may only write the caBundle/, what);
  }
  const annotated = await patchAsExtender([
    { op: "add", path: "/metadata/annotations", value: { "cert-manager.io/inject-ca-from": "default/x" } },
  ]);
  t.regex(annotated.stderr, /may not change a webhook configuration's labels, annotations/);
  // What the certificate keeper writes: every webhook's caBundle (here its CA twice, still trusted).
  const { caBundle } = await certificateState();
  const written = await patchAsExtender([
    {
      op: "add",
      path: "/webhooks/0/clientConfig/caBundle",
      value: Buffer.from(`${caBundle}${caBundle}`).toString("base64"),
    },
  ]);
  t.is(written.exitCode, 0, written.stderr);
});

test("the caBundle policy names every field this API server's MutatingWebhook has (a field it does not name goes unguarded)", async (t) => {
  // The server's own schema, not the shipped YAML: a field a later Kubernetes adds shows up here first.
  const openapi = JSON.parse(
    await ctx.cluster.kubectlOk(["get", "--raw", "/openapi/v3/apis/admissionregistration.k8s.io/v1"]),
  ) as { components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
  const fields = (kind: string) =>
    Object.keys(openapi.components.schemas[`io.k8s.api.admissionregistration.v1.${kind}`]?.properties ?? {});
  const webhookFields = fields("MutatingWebhook").filter((f) => f !== "name" && f !== "clientConfig");
  const clientConfigFields = fields("WebhookClientConfig").filter((f) => f !== "caBundle");
  t.true(webhookFields.includes("failurePolicy") && clientConfigFields.includes("url"), "the schema was read");
  const comparison = await caBundleComparison();
  for (const f of webhookFields) t.true(keepsWebhookField(comparison, f), f);
  for (const f of clientConfigFields) t.true(keepsWebhookField(comparison, `clientConfig.${f}`), `clientConfig.${f}`);
});

test("a pod with an nls PVC is marked by the webhook and decided by the extender", async (t) => {
  const before = await filterCalls();
  await apply(localPvc("default", "data", "30Gi", "nls-lvm"));
  await apply(pod("with-local", [claimVolume("data")]));
  t.deepEqual(marks(await getJson("pod", "with-local")), { requests: "1", limits: "1" });
  // No provisioner runs: the scheduler's choice shows as the claim's selected-node annotation.
  t.regex(await waitFor("a node selected for the claim", () => selectedNode("data")), /^webhook-[ab]$/);
  t.true((await filterCalls()) > before, "kube-scheduler called the extender");
});

test("a pod with another provisioner's PVC is not marked, and kube-scheduler places it without the extender", async (t) => {
  await apply(localPvc("default", "shared", "1Gi", "elsewhere"));
  // The webhook answers from the extender's caches: until its PVC watch has delivered the claim, a pod
  // naming it is marked (the safe side). Dry runs go through admission too: wait for the cache.
  await waitFor("the extender's cache to hold the claim", async () => {
    const out = await ctx.cluster.kubectlOk(
      ["create", "--dry-run=server", "-o", "json", "-f", "-"],
      JSON.stringify(pod("probe", [claimVolume("shared")])),
    );
    const probe = JSON.parse(out) as Awaited<ReturnType<typeof getJson>>;
    return marks(probe).requests === undefined ? true : undefined;
  });
  const before = await filterCalls();
  await apply(pod("with-other", [claimVolume("shared")]));
  t.deepEqual(marks(await getJson("pod", "with-other")), { requests: undefined, limits: undefined });
  t.regex(await waitFor("a node selected for the claim", () => selectedNode("shared")), /^webhook-[ab]$/);
  t.is(await filterCalls(), before, "kube-scheduler did not call the extender");
});

test("a pod without volumes reaches neither the webhook (matchConditions) nor the extender", async (t) => {
  const [filtered, admitted] = [await filterCalls(), await admissions()];
  t.true(admitted > 0 && filtered > 0, "both counters are there (and the earlier pods were counted)");
  await apply(pod("plain", [{ name: "tmp", emptyDir: {} }]));
  t.deepEqual(marks(await getJson("pod", "plain")), { requests: undefined, limits: undefined });
  await waitFor("the plain pod to be scheduled", async () => (await getJson("pod", "plain")).spec.nodeName);
  t.is(await filterCalls(), filtered, "kube-scheduler did not call the extender");
  t.is(await admissions(), admitted, "the API server did not call the webhook");
});

test("a generic ephemeral volume of a local class is marked; one of another provisioner's is not", async (t) => {
  const ephemeral = (storageClassName: string) => ({
    name: "scratch",
    ephemeral: {
      volumeClaimTemplate: {
        spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: "1Gi" } } },
      },
    },
  });
  await apply(pod("scratch-local", [ephemeral("nls-lvm")]));
  await apply(pod("scratch-other", [ephemeral("elsewhere")]));
  t.deepEqual(marks(await getJson("pod", "scratch-local")), { requests: "1", limits: "1" });
  t.deepEqual(marks(await getJson("pod", "scratch-other")), { requests: undefined, limits: undefined });
});

test("failurePolicy Fail: with the extender down, pods with claims are refused and other pods are created", async (t) => {
  await ctx.extender.stop();
  try {
    const refused = await ctx.cluster.kubectl(
      ["apply", "-f", "-"],
      JSON.stringify(pod("refused", [claimVolume("data")])),
    );
    t.not(refused.exitCode, 0);
    t.regex(refused.stderr, /failed calling webhook "local-storage\.nls\.csi\.aliyun\.com"/);
    // What NlsWebhookCallsFailing counts, in the API server's own metrics.
    const apiMetrics = await ctx.cluster.kubectlOk(["get", "--raw", "/metrics"]);
    t.regex(
      apiMetrics,
      /^apiserver_admission_webhook_rejection_count\{[^}]*error_type="calling_webhook_error"[^}]*name="local-storage\.nls\.csi\.aliyun\.com"[^}]*\} [1-9]/m,
    );
    await apply(pod("plain-while-down", [{ name: "tmp", emptyDir: {} }]));
    t.truthy(await getJson("pod", "plain-while-down"));
  } finally {
    await startWebhookExtender();
  }
  await apply(pod("accepted-again", [claimVolume("data")]));
  t.deepEqual(marks(await getJson("pod", "accepted-again")), { requests: "1", limits: "1" });
});

test("a restarted extender serves the Secret's pair again, issuing nothing", async (t) => {
  const before = await certificateState();
  await ctx.extender.stop();
  await startWebhookExtender();
  const served = certificates(before.tlsCrt)[0]!.fingerprint256;
  await waitFor("the restarted extender to serve the Secret's pair", async () =>
    (await servedFingerprint().catch(() => undefined)) === served ? true : undefined,
  );
  const probe = await dryRun("probe-restarted", [claimVolume("data")]);
  if (probe instanceof Error) return t.fail(probe.message);
  t.deepEqual(marks(probe), { requests: "1", limits: "1" });
  t.is((await certificateState()).resourceVersion, before.resourceVersion, "the Secret was not written");
  t.is(await metric(/^nls_extender_webhook_certificates_issued_total\{what="serving"\} (\d+)$/m), 0);
});

test("rotation with short lifetimes: serving certificates and a CA renewed, the old CA kept meanwhile, and every admission on the way succeeds", async (t) => {
  // A fresh start with a 60 s CA and 15 s serving certificates (checked every 1.25 s): the serving
  // pair is renewed with 5 s left, the CA with 20 s left, its successor joining the caBundle first.
  await ctx.extender.stop();
  await ctx.cluster.kubectlOk([
    "-n",
    "kube-system",
    "patch",
    "secret",
    "nls-extender-webhook-tls",
    "--type=json",
    "-p",
    '[{"op":"remove","path":"/data"}]',
  ]);
  await startWebhookExtender(["--webhook-ca-lifetime=60s", "--webhook-certificate-lifetime=15s"]);
  const firstCa = await waitFor("a new CA", async () => {
    const s = await certificateState();
    return s.caBundle && s.tlsCrt && s.caBundle === s.caCrt ? certificates(s.caCrt)[0]!.fingerprint256 : undefined;
  });
  const served = new Set<string>();
  const cas = new Set<string>();
  let mostCas = 0;
  const failures: string[] = [];
  const until = Date.now() + 55_000;
  for (let i = 0; Date.now() < until; i++) {
    const probe = await dryRun(`probe-rotation-${i}`, [claimVolume("data")]);
    if (probe instanceof Error) failures.push(probe.message);
    else if (marks(probe).requests !== "1") failures.push(`probe ${i} not marked`);
    served.add(await servedFingerprint());
    const bundle = certificates((await certificateState()).caBundle);
    for (const c of bundle) cas.add(c.fingerprint256);
    mostCas = Math.max(mostCas, bundle.length);
    await new Promise((r) => setTimeout(r, 500));
  }
  t.deepEqual(failures, [], "every pod admitted and marked through the rotations");
  t.true(served.size >= 3, `serving certificates renewed (served ${served.size})`);
  t.true(cas.size >= 2 && [...cas].includes(firstCa), `a second CA (saw ${cas.size})`);
  t.is(mostCas, 2, "the old CA stayed in the caBundle next to the new one");
  t.true((await metric(/^nls_extender_webhook_certificates_issued_total\{what="ca"\} (\d+)$/m)) >= 2);
  t.is(
    (await metric(/^nls_extender_webhook_certificate_failures_total\{step="publish-ca-bundle"\} (\d+)$/m)) +
      (await metric(/^nls_extender_webhook_certificate_failures_total\{step="write-secret"\} (\d+)$/m)),
    0,
  );
});
