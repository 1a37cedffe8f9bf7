/**
 * deploy/'s extender Deployment, PodDisruptionBudget, Services and EndpointSlices run by the real
 * Deployment, ReplicaSet and disruption controllers and kube-scheduler, on Node objects served by a
 * kubelet stand-in (kubelet-stand-in.ts: it runs the built extender for each bound pod and mirrors its
 * /readyz into the pod's Ready condition) and routed by a kube-proxy stand-in (service-proxy.ts: the
 * Service's EndpointSlice, as the leader writes it). kube-scheduler calls the extender through that
 * Service, as deploy/scheduler/kube-scheduler-config.yaml does.
 *
 * First install as deploy/README.md says (`kubectl rollout status` must complete: both replicas Ready),
 * then, each in the middle of a burst of pods with local volumes: `kubectl rollout restart` until
 * `kubectl rollout status` completes, and `kubectl drain` of the leader's node. Throughout: no VG
 * promised more than it holds, every pod of the burst placed without a manual step, never both
 * replicas down. The gaps in routing are printed.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { gatedSerial } from "../gate.js";
import { ADMIN_TOKEN, crdsEstablished, e2eGate, startCluster, waitFor, type Cluster } from "./cluster.js";
import { schedulerConfigFor } from "./daemons.js";
import { Informer } from "./informer.js";
import { kubeApi } from "./kube-api.js";
import { startKubeletStandIn, type KubeletStandIn } from "./kubelet-stand-in.js";
import { localPod, localPvc, localStorageClass } from "./local-volumes.js";
import { addReadyNode } from "./nodes.js";
import { addStorageNode } from "./node-storage.js";
import { startServiceProxy, type ServiceProxy } from "./service-proxy.js";
import { describeOutages, startAvailabilityProbe, type AvailabilityProbe } from "./availability-probe.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const GI = 2 ** 30;
/** Where the extender's pods may run (deploy/'s nodeSelector: kubernetes.io/os=linux); no storage. */
const CONTROL_NODES = ["ctl-a", "ctl-b", "ctl-c"];
/** Where the burst's volumes go: no kubernetes.io/os label, so the extender's pods never land here. */
const STORAGE_NODES = ["ro-1", "ro-2", "ro-3"];
const VG_GI = 100;
const CLAIM_GI = 10;
const TIMEOUT = "300s";

const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# rollout e2e skipped: ${gate.why}`);

const ctx = {} as {
  cluster: Cluster;
  kubelet: KubeletStandIn;
  proxy: ServiceProxy;
  probe: AvailabilityProbe;
  startedAt: number;
};
const kubectl = (...args: string[]) => ctx.cluster.kubectlOk(args);
const inSystem = (...args: string[]) => kubectl("-n", "kube-system", ...args);

/** deploy/'s scheduler configuration without the extender: how the extender's own first pods get placed. */
async function bootstrapSchedulerConfig(): Promise<string> {
  const config = parse(await schedulerConfigFor("http://unused")) as { extenders?: unknown };
  delete config.extenders;
  return stringify(config);
}

interface Slice {
  endpoints?: Array<{ addresses: string[]; nodeName?: string; targetRef?: { name?: string } }>;
}
const leaderSlice = async () =>
  JSON.parse(await inSystem("get", "endpointslice", "nls-extender", "-o", "json")) as Slice;

/** PVC name → the node kube-scheduler selected for it. */
async function selectedNodes(): Promise<Map<string, string>> {
  const list = JSON.parse(await kubectl("get", "pvc", "-n", "default", "-o", "json")) as {
    items: Array<{ metadata: { name: string; annotations?: Record<string, string> } }>;
  };
  const out = new Map<string, string>();
  for (const p of list.items) {
    const node = p.metadata.annotations?.["volume.kubernetes.io/selected-node"];
    if (node) out.set(p.metadata.name, node);
  }
  return out;
}

const createPods = (names: string[]) =>
  ctx.cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: names.flatMap((n) => [localPvc("default", n, `${CLAIM_GI}Gi`, "nls-lvm"), localPod("default", n, [n])]),
    }),
  );

async function everyPodPlaced(names: string[]): Promise<Map<string, string>> {
  return waitFor(
    "every pod of the burst placed",
    async () => {
      const s = await selectedNodes();
      return names.every((n) => s.has(n)) ? s : undefined;
    },
    300_000,
  );
}

/** Whether a leader's filter passed each of these pods (its debug line names the pod it answered for). */
const filtered = (pods: string[]) =>
  pods.every((name) =>
    ctx.kubelet.logs().some((l) => l.includes('"verb":"filter"') && l.includes(`"pod":"kube-system/${name}"`)),
  );

/**
 * Waits until the kube-proxy stand-in routes to one of `ips` and filter through the Service answers
 * again, so that what the test then reports includes the last handover.
 */
const routedAndAnswering = (ips: string[]) =>
  waitFor("the Service routed to a running pod and answering", async () =>
    ctx.proxy.backends().some((b) => ips.includes(b.ip)) && ctx.probe.outages().every((o) => o.to !== undefined)
      ? true
      : undefined,
  );

/** The extender's pods once only two are left (the terminating ones deleted). */
const twoPodsLeft = () =>
  waitFor(
    "the terminating pods gone",
    async () => (ctx.kubelet.pods.size === 2 ? [...ctx.kubelet.pods.values()] : undefined),
    120_000,
  );

/** Each node's promised GiB over every burst so far; none may exceed its VG. */
function promised(selected: Map<string, string>): Map<string, number> {
  const perNode = new Map<string, number>();
  for (const node of selected.values()) perNode.set(node, (perNode.get(node) ?? 0) + CLAIM_GI);
  return perNode;
}

/**
 * How routing went over [from, to]: each change of the Service's endpoints, relative to `from`, with
 * the pod it names and what the kubelet stand-in did to the pods around it.
 */
function routingReport(from: number, to: number): string {
  const rel = (at: number) => `+${((at - from) / 1000).toFixed(2)}s`;
  const podOf = (ip: string) => [...ctx.kubelet.events].reverse().find((e) => e.ip === ip)?.pod ?? ip;
  const lines = [
    ...ctx.proxy.changes
      .filter((c) => c.at >= from && c.at <= to)
      .map((c) => ({ at: c.at, text: `Service → ${c.ips.map(podOf).join(",") || "(no endpoint)"}` })),
    ...ctx.kubelet.events
      .filter((e) => e.at >= from && e.at <= to)
      .map((e) => ({ at: e.at, text: `${e.pod} ${e.what}` })),
  ].sort((a, b) => a.at - b.at);
  return lines.map((l) => `${rel(l.at)} ${l.text}`).join("\n");
}

/**
 * For each time the Service stopped naming a pod that was being terminated: how long after that pod's
 * SIGTERM the new leader's address replaced it.
 */
function handoverGaps(from: number, to: number): string[] {
  const gaps: string[] = [];
  const changes = ctx.proxy.changes.filter((c) => c.at >= from && c.at <= to);
  let previous = ctx.proxy.changes.filter((c) => c.at < from).at(-1)?.ips ?? [];
  for (const c of changes) {
    for (const ip of previous) {
      if (c.ips.includes(ip)) continue;
      const term = ctx.kubelet.events.find((e) => e.ip === ip && e.what === "SIGTERM");
      const exit = ctx.kubelet.events.find((e) => e.ip === ip && e.what === "exited");
      if (term) {
        gaps.push(
          `${term.pod}: Service moved ${c.at - term.at} ms after its SIGTERM` +
            (exit ? `, ${c.at - exit.at} ms after it exited` : ""),
        );
      }
    }
    previous = c.ips;
  }
  return gaps;
}

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startCluster());
  await cluster.startControllerManager("deployment-controller,replicaset-controller,disruption-controller");
  await cluster.kubectlOk(["apply", "-k", join(root, "deploy")]);
  await crdsEstablished(cluster);
  await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
  for (const n of CONTROL_NODES) await addReadyNode(cluster, n, { "kubernetes.io/os": "linux" });
  for (const n of STORAGE_NODES) await addStorageNode(cluster, n, { vgs: [{ name: "pool-0", bytes: VG_GI * GI }] });
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(localStorageClass("nls-lvm")));
  const api = kubeApi(cluster.server, ADMIN_TOKEN);
  ctx.kubelet = startKubeletStandIn(cluster, api, {
    namespace: "kube-system",
    labelSelector: "app.kubernetes.io/name=nls-extender",
  });
  ctx.proxy = await startServiceProxy(api, "kube-system", "nls-extender", "http", (b) => ctx.kubelet.resolve(b));
  ctx.startedAt = Date.now();
});

test.after.always(async () => {
  await ctx.probe?.stop();
  await ctx.proxy?.close();
  await ctx.kubelet?.stop();
  await ctx.cluster?.stop();
});

test("first install: rollout status completes with both replicas Ready, the leader alone in the Service", async (t) => {
  // deploy/README.md: install, wait for the rollout, then register the extender with kube-scheduler.
  const bootstrap = await ctx.cluster.startScheduler(await bootstrapSchedulerConfig());
  const status = await inSystem("rollout", "status", "deploy/nls-extender", `--timeout=${TIMEOUT}`);
  t.regex(status, /successfully rolled out/);
  await bootstrap.stop();
  const deploy = JSON.parse(await inSystem("get", "deploy", "nls-extender", "-o", "json"));
  t.is(deploy.status.readyReplicas, 2);
  const running = [...ctx.kubelet.pods.values()];
  t.is(running.length, 2);
  // Preferred, not required: kube-scheduler's scoring usually spreads them, nothing guarantees it.
  t.log(`replicas on ${running.map((p) => p.node).join(" and ")}`);
  const slice = await waitFor("the leader in the Service's slice", async () =>
    (await leaderSlice()).endpoints?.length === 1 ? leaderSlice() : undefined,
  );
  const leader = running.find((p) => p.name === slice.endpoints![0]!.targetRef?.name);
  t.truthy(leader, "the slice names one of the two pods");
  t.deepEqual(slice.endpoints![0]!.addresses, [leader!.ip]);
  t.is(slice.endpoints![0]!.nodeName, leader!.node);
  const standby = running.find((p) => p !== leader)!;
  // The standby learns the holder at its next read of the Lease (every retry period): two replicas
  // starting together may both try to create it, and the one refused knows no holder until then.
  const standbyLine = /\[\+\]role ok: standby: lease kube-system\/nls-extender is held by /;
  const verbose = await waitFor("the standby naming the Lease's holder", async () => {
    const text = await (await fetch(`http://127.0.0.1:${standby.port}/readyz?verbose`)).text();
    return standbyLine.test(text) ? text : undefined;
  });
  t.regex(verbose, standbyLine);
  // Pod disruption: the PDB counts both, so a drain may take one.
  const pdb = await waitFor("the disruption controller's verdict", async () => {
    const p = JSON.parse(await inSystem("get", "pdb", "nls-extender", "-o", "json"));
    return p.status?.currentHealthy === 2 ? p : undefined;
  });
  t.is(pdb.status.disruptionsAllowed, 1);
  await ctx.cluster.startScheduler(await schedulerConfigFor(`http://127.0.0.1:${ctx.proxy.port}`));
  ctx.probe = startAvailabilityProbe(`http://127.0.0.1:${ctx.proxy.port}`);
});

test("kubectl rollout restart mid-burst: the rollout completes, every pod is placed, no VG overcommitted", async (t) => {
  const names = [...Array(12).keys()].map((i) => `roll-${i}`);
  const from = Date.now();
  const before = new Set(ctx.kubelet.pods.keys());
  await createPods(names.slice(0, 6));
  await waitFor("some of the first half placed", async () => ((await selectedNodes()).size >= 2 ? true : undefined));
  await inSystem("rollout", "restart", "deploy/nls-extender");
  await createPods(names.slice(6));
  const status = await inSystem("rollout", "status", "deploy/nls-extender", `--timeout=${TIMEOUT}`);
  t.regex(status, /successfully rolled out/);
  const selected = await everyPodPlaced(names);
  for (const [node, gi] of promised(selected)) t.true(gi <= VG_GI, `${node} promised ${gi}Gi of ${VG_GI}Gi`);
  // rollout status returns once the old pods are terminating; they are gone once they have exited.
  const now = await twoPodsLeft();
  t.false(
    now.some((p) => before.has(p.name)),
    "both replicas replaced",
  );
  const slice = await waitFor("the new leader in the slice", async () => {
    const s = await leaderSlice();
    return now.some((p) => p.ip === s.endpoints?.[0]?.addresses[0]) ? s : undefined;
  });
  await routedAndAnswering(now.map((p) => p.ip));
  t.is(slice.endpoints!.length, 1);
  const to = Date.now();
  t.true(ctx.kubelet.fewestReady(from, to) >= 1, "never both replicas down");
  // No claims, so not marked by deploy/'s webhook: kube-scheduler never asks the extender about its own
  // replacements (deploy/scheduler/kube-scheduler-config.yaml's managedResources).
  t.false(filtered(now.map((p) => p.name)), "kube-scheduler placed the new replicas without the extender");
  t.log(`routing during the rollout:\n${routingReport(from, to)}`);
  t.log(`handovers: ${handoverGaps(from, to).join("; ") || "none"}`);
  t.log(`connections refused or failed at the proxy: ${ctx.proxy.refused + ctx.proxy.failed}`);
  t.log(`outages of filter through the Service: ${describeOutages(ctx.probe, from, to).join("; ") || "none"}`);
});

test("kubectl drain of the leader's node mid-burst: the drain succeeds, the PDB holds, every pod is placed", async (t) => {
  const names = [...Array(12).keys()].map((i) => `drain-${i}`);
  const slice = await leaderSlice();
  const leaderNode = slice.endpoints![0]!.nodeName!;
  const leaderPod = slice.endpoints![0]!.targetRef!.name!;
  const from = Date.now();
  const failuresBefore = ctx.proxy.refused + ctx.proxy.failed;
  await createPods(names.slice(0, 6));
  await waitFor("some of the first half placed", async () => {
    const s = await selectedNodes();
    return names.slice(0, 6).filter((n) => s.has(n)).length >= 2 ? true : undefined;
  });
  const drained = await kubectl(
    "drain",
    leaderNode,
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    `--timeout=${TIMEOUT}`,
  );
  t.regex(drained, new RegExp(`evicting pod kube-system/${leaderPod}`));
  t.regex(drained, new RegExp(`node/${leaderNode} drained`));
  await createPods(names.slice(6));
  await inSystem("rollout", "status", "deploy/nls-extender", `--timeout=${TIMEOUT}`);
  const selected = await everyPodPlaced(names);
  for (const [node, gi] of promised(selected)) t.true(gi <= VG_GI, `${node} promised ${gi}Gi of ${VG_GI}Gi`);
  const now = await twoPodsLeft();
  t.false(
    now.some((p) => p.node === leaderNode),
    "nothing runs on the drained node",
  );
  const after = await waitFor("a running pod in the slice", async () => {
    const s = await leaderSlice();
    return now.some((p) => p.ip === s.endpoints?.[0]?.addresses[0]) ? s : undefined;
  });
  await routedAndAnswering(now.map((p) => p.ip));
  t.not(after.endpoints![0]!.targetRef?.name, leaderPod);
  const to = Date.now();
  t.true(ctx.kubelet.fewestReady(from, to) >= 1, "never both replicas down");
  t.false(
    filtered(now.filter((p) => p.name !== leaderPod).map((p) => p.name)),
    "the replacement was placed without the extender (no claims: not marked)",
  );
  t.log(`routing during the drain:\n${routingReport(from, to)}`);
  t.log(`handovers: ${handoverGaps(from, to).join("; ") || "none"}`);
  t.log(`connections refused or failed at the proxy: ${ctx.proxy.refused + ctx.proxy.failed - failuresBefore}`);
  t.log(`outages of filter through the Service: ${describeOutages(ctx.probe, from, to).join("; ") || "none"}`);
});

test("re-applying deploy/ empties the slices; the leader writes itself back by itself", async (t) => {
  const leaderIp = (await leaderSlice()).endpoints![0]!.addresses[0]!;
  // Every version of the slice the API server serves, watched: the kube-proxy stand-in polls every
  // 100 ms and misses an empty version the leader replaces sooner than that.
  const versions: string[][] = [];
  const slices = new Informer<Slice & { metadata: { name: string; uid: string } }>(
    kubeApi(ctx.cluster.server, ADMIN_TOKEN),
    "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices",
    {
      changed: (s) => {
        if (s.metadata.name === "nls-extender") versions.push((s.endpoints ?? []).flatMap((e) => e.addresses));
      },
    },
  );
  slices.start();
  t.teardown(() => slices.stop());
  await slices.synced;
  const seenBefore = versions.length;
  const from = Date.now();
  const applied = await ctx.cluster.kubectlOk(["apply", "-k", join(root, "deploy")]);
  t.regex(applied, /endpointslice.discovery.k8s.io\/nls-extender configured/);
  const emptied = await waitFor("the slice emptied", async () => {
    const i = versions.findIndex((ips, k) => k >= seenBefore && ips.length === 0);
    return i >= 0 ? i : undefined;
  });
  await waitFor("the leader back in the slice", async () =>
    versions.slice(emptied + 1).some((ips) => ips.includes(leaderIp)) ? true : undefined,
  );
  const back = Date.now();
  t.log(
    `slice versions after the apply: ${versions
      .slice(seenBefore)
      .map((ips) => `[${ips.join(",")}]`)
      .join(" → ")}; ` +
      `outages of filter through the Service: ${describeOutages(ctx.probe, from, back).join("; ") || "none"}`,
  );
});
