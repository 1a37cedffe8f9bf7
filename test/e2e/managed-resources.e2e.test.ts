/**
 * Pods without local storage never reach the extender: the real kube-apiserver with the
 * MutatingAdmissionPolicy API on applies deploy/components/managed-resources, and the real kube-scheduler
 * runs deploy/scheduler/kube-scheduler-config.yaml. The extender's request counters
 * say which pods it was asked about. Last, the switch back to every pod
 * (deploy/scheduler/kube-scheduler-config-every-pod.yaml) with marked pods still pending.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { gatedSerial } from "../gate.js";
import { crdsEstablished, e2eGate, freePort, startCluster, waitFor, type Cluster } from "./cluster.js";
import { schedulerConfigFor, startExtender, type ExtenderProcess } from "./daemons.js";
import { failedSchedulingMessages } from "./events.js";
import { localPvc, localStorageClass } from "./local-volumes.js";
import { addStorageNode } from "./node-storage.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const GI = 2 ** 30;
const RESOURCE = "nls.csi.aliyun.com/local-storage";
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# managed-resources e2e skipped: ${gate.why}`);

const ctx = {} as { cluster: Cluster; extender: ExtenderProcess; scheduler: { stop(): Promise<void> } };
const apply = (obj: unknown) => ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));

/** How many filter requests the extender has answered. */
async function filterCalls(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ctx.extender.port}/metrics`)).text();
  return Number(/^nls_extender_request_duration_seconds_count\{verb="filter"\} (\d+)$/m.exec(text)?.[1] ?? NaN);
}

const nodeOf = async (pod: string) =>
  (await ctx.cluster.kubectlOk(["get", "pod", pod, "-o", "jsonpath={.spec.nodeName}"])).trim() || undefined;

const pod = (name: string, volumes: object[], resources?: object) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10", ...(resources && { resources }) }], volumes },
});
const pvc = (name: string, size: string) => localPvc("default", name, size, "nls-lvm");

/** The node kube-scheduler chose for a claim (no provisioner runs: its selected-node annotation). */
const selectedNode = async (claim: string) =>
  (
    await ctx.cluster.kubectlOk([
      "get",
      "pvc",
      claim,
      "-o",
      "jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/selected-node}",
    ])
  ).trim() || undefined;

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startCluster({
    apiServerArgs: [
      "--feature-gates=MutatingAdmissionPolicy=true",
      "--runtime-config=admissionregistration.k8s.io/v1beta1=true",
    ],
  }));
  // deploy/base with the component in place of deploy/'s webhook, as an operator's overlay would have it.
  const overlay = join(cluster.dir, "overlay");
  await mkdir(overlay, { recursive: true });
  await writeFile(
    join(overlay, "kustomization.yaml"),
    stringify({
      resources: [relative(overlay, join(root, "deploy/base"))],
      components: [relative(overlay, join(root, "deploy/components/managed-resources"))],
    }),
  );
  await cluster.kubectlOk(["apply", "-k", overlay]);
  await crdsEstablished(cluster);
  await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
  for (const n of ["managed-a", "managed-b"]) {
    await addStorageNode(cluster, n, { vgs: [{ name: "pool-0", bytes: 100 * GI }] });
  }
  await apply(localStorageClass("nls-lvm"));
  const port = await freePort();
  ctx.extender = await startExtender(cluster, port);
  ctx.scheduler = await cluster.startScheduler(await schedulerConfigFor(`http://127.0.0.1:${port}`));
});

test.after.always(async () => {
  await ctx.extender?.stop();
  await ctx.cluster?.stop();
});

test("a pod without claims is scheduled without the extender; a pod with a claim is marked and asked about", async (t) => {
  const before = await filterCalls();
  await apply(pod("plain", [{ name: "tmp", emptyDir: {} }]));
  await waitFor("the plain pod to be scheduled", () => nodeOf("plain"));
  t.is(await filterCalls(), before, "kube-scheduler did not call the extender");
  const plain = JSON.parse(await ctx.cluster.kubectlOk(["get", "pod", "plain", "-o", "json"]));
  t.is(plain.spec.containers[0].resources?.limits?.[RESOURCE], undefined, "not marked");

  await apply(pvc("data", "30Gi"));
  await apply(pod("with-claim", [{ name: "d", persistentVolumeClaim: { claimName: "data" } }]));
  // No provisioner runs: the scheduler's choice shows as the claim's selected-node annotation.
  const selected = await waitFor("a node selected for the claim", () => selectedNode("data"));
  t.regex(selected, /^managed-[ab]$/);
  t.true((await filterCalls()) > before, "kube-scheduler called the extender");
  const marked = JSON.parse(await ctx.cluster.kubectlOk(["get", "pod", "with-claim", "-o", "json"]));
  t.is(marked.spec.containers[0].resources.requests[RESOURCE], "1");
  t.is(marked.spec.containers[0].resources.limits[RESOURCE], "1");
});

test("a generic ephemeral volume is marked too, and a claim that does not fit is refused by the extender", async (t) => {
  await apply(
    pod("ephemeral", [
      {
        name: "scratch",
        ephemeral: {
          volumeClaimTemplate: {
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: "nls-lvm",
              resources: { requests: { storage: "500Gi" } },
            },
          },
        },
      },
    ]),
  );
  const marked = JSON.parse(await ctx.cluster.kubectlOk(["get", "pod", "ephemeral", "-o", "json"]));
  t.is(marked.spec.containers[0].resources.limits[RESOURCE], "1");
  // No ephemeral-volume controller runs here, so the claim never appears: the extender holds the pod
  // back (a claim it cannot see yet fails every node) — what matters is that it was asked.
  const before = await filterCalls();
  await apply(pvc("huge", "500Gi"));
  await apply(pod("huge", [{ name: "d", persistentVolumeClaim: { claimName: "huge" } }]));
  const messages = await waitFor("the huge pod refused", async () => {
    const m = await failedSchedulingMessages(ctx.cluster, "huge");
    return m.length > 0 ? m : undefined;
  });
  t.regex(messages.join("\n"), /insufficient local storage \(LVM\)/);
  t.true((await filterCalls()) > before);
  t.is(await nodeOf("huge"), undefined);
});

test("back to every pod: pods marked before the switch and still pending are placed, through the extender", async (t) => {
  // The marking's scheduler is gone; the pods left pending by the tests above would keep the extender
  // busy under the next one, so they go too.
  await ctx.scheduler.stop();
  await ctx.cluster.kubectlOk(["delete", "pod", "huge", "ephemeral", "--wait=true"]);
  // Marked, and pending when the configuration changes: one marked by the policy for its local claim, one
  // without claims carrying the request as a marked manifest would (the extender passes it straight
  // through, so it binds without a provisioner).
  await apply(pvc("switch-data", "30Gi"));
  await apply(pod("switch-claim", [{ name: "d", persistentVolumeClaim: { claimName: "switch-data" } }]));
  const request = { [RESOURCE]: "1" };
  await apply(pod("switch-marked", [{ name: "tmp", emptyDir: {} }], { requests: request, limits: request }));
  for (const name of ["switch-claim", "switch-marked"]) {
    const got = JSON.parse(await ctx.cluster.kubectlOk(["get", "pod", name, "-o", "json"]));
    t.is(got.spec.containers[0].resources.requests[RESOURCE], "1", `${name} is marked`);
    t.is(await nodeOf(name), undefined, `${name} is pending`);
  }

  const before = await filterCalls();
  ctx.scheduler = await ctx.cluster.startScheduler(
    await schedulerConfigFor(`http://127.0.0.1:${ctx.extender.port}`, "kube-scheduler-config-every-pod.yaml"),
  );
  t.regex(await waitFor("the marked pod bound", () => nodeOf("switch-marked")), /^managed-[ab]$/);
  t.regex(await waitFor("a node selected for the marked claim", () => selectedNode("switch-data")), /^managed-[ab]$/);
  // Each placed at its first attempt (no FailedScheduling), so the two filter calls are theirs.
  for (const name of ["switch-claim", "switch-marked"]) {
    t.deepEqual(await failedSchedulingMessages(ctx.cluster, name), [], `${name} never refused`);
  }
  const afterMarked = await filterCalls();
  t.true(afterMarked - before >= 2, "kube-scheduler asked the extender about both marked pods");

  // And a pod that is not marked goes through the extender too now.
  await apply(pod("switch-plain", [{ name: "tmp", emptyDir: {} }]));
  t.regex(await waitFor("the plain pod bound", () => nodeOf("switch-plain")), /^managed-[ab]$/);
  t.true((await filterCalls()) > afterMarked, "kube-scheduler asked the extender about the plain pod");
});
