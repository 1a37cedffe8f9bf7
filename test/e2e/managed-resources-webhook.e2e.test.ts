/**
 * The webhook way to keep pods without local storage away from the extender, against the real
 * kube-apiserver (no MutatingAdmissionPolicy API: version 1.34's default) and kube-scheduler: deploy/
 * with components/managed-resources-webhook, the built nls-extender serving the webhook over HTTPS with
 * the component's flags, and kube-scheduler with deploy/scheduler/kube-scheduler-config-managed-resources.yaml.
 * Only the webhook's address is changed: the API server here cannot route to a Service (no kube-proxy),
 * so the MutatingWebhookConfiguration calls the extender's port on loopback, with the test CA as caBundle.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { makeTestCa, type TestCa } from "@nls/testkit";
import { gatedSerial } from "../gate.js";
import { kustomizeWithComponent, type KubeObject } from "../deploy/render.js";
import { crdsEstablished, e2eGate, freePort, startCluster, waitFor, type Cluster } from "./cluster.js";
import { startExtender, type ExtenderProcess } from "./daemons.js";
import { localPvc, localStorageClass } from "./local-volumes.js";
import { addStorageNode } from "./node-storage.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const GI = 2 ** 30;
const RESOURCE = "nls.csi.aliyun.com/local-storage";
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# managed-resources-webhook e2e skipped: ${gate.why}`);

const ctx = {} as {
  cluster: Cluster;
  ca: TestCa;
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

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startCluster());
  ctx.ca = await makeTestCa("nls-e2e-webhook-ca", cluster.dir);
  [ctx.port, ctx.webhookPort] = [await freePort(), await freePort()];
  // The CA bundle patched in, as an operator's overlay would.
  const caBundle = (await readFile(ctx.ca.cert)).toString("base64");
  const objects = (await kustomizeWithComponent("managed-resources-webhook")).map((o) =>
    o.kind === "MutatingWebhookConfiguration" ? onLoopback(o, caBundle) : o,
  );
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  await crdsEstablished(cluster);
  await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
  for (const n of ["webhook-a", "webhook-b"]) {
    await addStorageNode(cluster, n, { vgs: [{ name: "pool-0", bytes: 100 * GI }] });
  }
  await apply(localStorageClass("nls-lvm"));
  await apply({ ...localStorageClass("elsewhere"), provisioner: "nfs.csi.k8s.io", parameters: {} });
  const serving = await ctx.ca.server("webhook", ["nls-extender-webhook.kube-system.svc", "127.0.0.1"]);
  // The component's flags, with this test's port and files.
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "nls-extender")!;
  const args = (deployment as unknown as { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } })
    .spec.template.spec.containers[0]!.args;
  ctx.extenderArgs = args
    .filter((a) => a.startsWith("--webhook-"))
    .map((a) =>
      a
        .replace(/^--webhook-port=.*/, `--webhook-port=${ctx.webhookPort}`)
        .replace(/^--webhook-tls-cert-file=.*/, `--webhook-tls-cert-file=${serving.cert}`)
        .replace(/^--webhook-tls-private-key-file=.*/, `--webhook-tls-private-key-file=${serving.key}`),
    );
  ctx.extender = await startExtender(cluster, ctx.port, { args: ctx.extenderArgs });
  const config = parse(
    await readFile(join(root, "deploy/scheduler/kube-scheduler-config-managed-resources.yaml"), "utf8"),
  );
  config.clientConnection.kubeconfig = "${KUBECONFIG}";
  config.leaderElection = { leaderElect: false };
  config.extenders[0].urlPrefix = `http://127.0.0.1:${ctx.port}/scheduler`;
  await cluster.startScheduler(stringify(config));
});

/** The shipped configuration, but calling the extender's webhook port on loopback, trusting the test CA. */
function onLoopback(config: KubeObject, caBundle: string): KubeObject {
  const webhooks = (config as unknown as { webhooks: Array<{ clientConfig: { service: { path: string } } }> }).webhooks;
  return {
    ...config,
    webhooks: webhooks.map((w) => ({
      ...w,
      clientConfig: { url: `https://127.0.0.1:${ctx.webhookPort}${w.clientConfig.service.path}`, caBundle },
    })),
  } as KubeObject;
}

test.after.always(async () => {
  await ctx.extender?.stop();
  await ctx.cluster?.stop();
  await ctx.ca?.remove();
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
    await apply(pod("plain-while-down", [{ name: "tmp", emptyDir: {} }]));
    t.truthy(await getJson("pod", "plain-while-down"));
  } finally {
    ctx.extender = await startExtender(ctx.cluster, ctx.port, { args: ctx.extenderArgs });
  }
  await apply(pod("accepted-again", [claimVolume("data")]));
  t.deepEqual(marks(await getJson("pod", "accepted-again")), { requests: "1", limits: "1" });
});
