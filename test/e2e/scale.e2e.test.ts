/**
 * The extender's promise at scale, through the real kube-scheduler and kube-controller-manager (PV
 * binder): bursts of pods with local PVCs created at once, provisioned by the stand-in for open-local's
 * CSI controller + external-provisioner (open-local-csi.ts) with a node side that refuses what does not
 * fit (node-lvm.ts), outcomes read back from the API. Each scenario has its own nodes (label
 * nls-e2e/group) and namespace. Figures are printed per scenario; nothing here asserts a duration.
 */
import type { ExecutionContext } from "ava";
import { gatedSerial } from "../gate.js";
import {
  createBurst,
  describe,
  fitsSomewhere,
  GiB,
  settle,
  type Burst,
  type BurstNode,
  type Figures,
  type PodSpec,
} from "./burst.js";
import { ADMIN_TOKEN, e2eGate, freePort, startDeployedCluster, waitFor, type Cluster } from "./cluster.js";
import { schedulerConfigFor, startExtender, type ExtenderProcess } from "./daemons.js";
import { kubeApi, type KubeApi } from "./kube-api.js";
import { addStorageNode } from "./node-storage.js";
import { NodeLvm } from "./node-lvm.js";
import { doRequest, OpenLocalCsiStandIn } from "./open-local-csi.js";

const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# scale e2e skipped: ${gate.why}`);

const ctx = {} as { cluster: Cluster; api: KubeApi; extender: ExtenderProcess; csi: OpenLocalCsiStandIn; lvm: NodeLvm };
const extenderUrl = () => `http://127.0.0.1:${ctx.extender.port}`;

/** Restarts the extender (SIGTERM, then the same port) with `flags`; resolves to the old one's exit code. */
async function restartExtender(flags: string[] = []): Promise<number | null> {
  const code = await ctx.extender.stop();
  ctx.extender = await startExtender(ctx.cluster, ctx.extender.port, { args: flags, webhook: true });
  return code;
}

/** A debug view (`/cache`), served on the extender's loopback debug address, not its public port. */
async function extenderGet<T>(path: string): Promise<T> {
  return (await (await fetch(`http://127.0.0.1:${ctx.extender.debugPort}${path}`)).json()) as T;
}

/** A counter or gauge without labels from the extender's /metrics (NaN when absent). */
async function extenderMetric(name: string): Promise<number> {
  const text = await (await fetch(`${extenderUrl()}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startDeployedCluster());
  ctx.api = kubeApi(cluster.server, ADMIN_TOKEN);
  // Only the PV binder: no node-lifecycle controller to taint the kubelet-less nodes.
  await cluster.startControllerManager("persistentvolume-binder-controller");
  for (const [name, parameters] of [
    ["nls-lvm", { volumeType: "LVM" }],
    ["nls-lvm-pool0", { volumeType: "LVM", vgName: "pool-0" }],
  ] as const) {
    await ctx.api.post("/apis/storage.k8s.io/v1/storageclasses", {
      metadata: { name },
      provisioner: "local.csi.aliyun.com",
      parameters,
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
    });
  }
  ctx.extender = await startExtender(cluster, await freePort(), { webhook: true });
  await cluster.startScheduler(await schedulerConfigFor(extenderUrl()));
  ctx.lvm = new NodeLvm();
  ctx.csi = new OpenLocalCsiStandIn(ctx.api, {
    // The driver's EXTENDER_SVC_IP/PORT, pointed at the extender process.
    env: { EXTENDER_SVC_IP: "127.0.0.1", EXTENDER_SVC_PORT: String(ctx.extender.port) },
    extenderSchedulerNames: ["default-scheduler"],
    post: (url) => doRequest(url, async (host, port) => ({ host, port })),
    createOnNode: ctx.lvm.create,
  });
  ctx.csi.start();
});

test.after.always(async () => {
  await ctx.csi?.stop();
  await ctx.extender?.stop();
  await ctx.cluster?.stop();
});

/** `count` nodes `<group>-<i>` with the given VGs (sizes in Gi), registered and given to the fake LVM. */
async function nodeGroup(group: string, count: number, vgs: Record<string, number>): Promise<BurstNode[]> {
  const nodes = Array.from({ length: count }, (_, i) => ({
    name: `${group}-${String(i).padStart(2, "0")}`,
    vgs: Object.fromEntries(Object.entries(vgs).map(([vg, gi]) => [vg, gi * GiB])),
  }));
  await Promise.all(
    nodes.map((n) =>
      addStorageNode(
        ctx.cluster,
        n.name,
        { vgs: Object.entries(n.vgs).map(([name, bytes]) => ({ name, bytes })) },
        {},
        { "nls-e2e/group": group },
      ),
    ),
  );
  for (const n of nodes) for (const [vg, bytes] of Object.entries(n.vgs)) ctx.lvm.addVg(n.name, vg, bytes);
  // The extender has seen every node's NLS and Lease before the burst starts.
  await waitFor(`the extender to see group ${group}`, async () => {
    const cache = await extenderGet<{ nodes: Record<string, { nls: boolean; agentProblem: string | null }> }>("/cache");
    return nodes.every((n) => cache.nodes[n.name]?.nls && !cache.nodes[n.name]?.agentProblem) ? true : undefined;
  });
  return nodes;
}

const samePods = (prefix: string, count: number, gi: number, className: string): PodSpec[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `${prefix}-${i}`,
    claims: [{ name: `${prefix}-${i}`, gi, className }],
  }));

/** Per `node/vg` of the burst's nodes: bytes the extender's ledger holds, and bytes the PVs hold. */
async function ledgerAndPvs(
  burst: Burst,
  f: Figures,
): Promise<{ ledger: Record<string, number>; pvs: Record<string, number> }> {
  const cache = await extenderGet<{
    ledger: { nodes: Record<string, { vgs: Record<string, number>; unplaced: number }> };
  }>("/cache");
  const ledger: Record<string, number> = {};
  const pvs: Record<string, number> = {};
  for (const n of burst.nodes) {
    for (const [vg, allocatable] of Object.entries(n.vgs)) {
      ledger[`${n.name}/${vg}`] = cache.ledger.nodes[n.name]?.vgs[vg] ?? 0;
      pvs[`${n.name}/${vg}`] = allocatable - f.free.get(n.name)!.get(vg)!;
    }
    if (cache.ledger.nodes[n.name]?.unplaced) ledger[`${n.name}/(no VG)`] = cache.ledger.nodes[n.name]!.unplaced;
  }
  return { ledger, pvs };
}

async function run(title: string, burst: Burst, during?: () => Promise<void>) {
  const misplacedBefore = await extenderMetric("nls_extender_reservations_misplaced_total");
  const started = await createBurst(ctx.api, burst);
  await during?.();
  const f = await settle(ctx.api, burst, ctx.csi, started);
  const misplaced =
    (await extenderMetric("nls_extender_reservations_misplaced_total")) - (during ? 0 : misplacedBefore);
  console.log(describe(title, f, `, holds on a node kube-scheduler did not choose ${misplaced}`));
  // Once nothing moves, the ledger holds exactly what the PVs hold: no hold leaked, none missing.
  const { ledger, pvs } = await ledgerAndPvs(burst, f);
  return { ...f, ledger, pvs };
}

/** 20 identical nodes × 100Gi and 80 pods × one 30Gi PVC created at once: 60 fit. */
async function ties(group: string, className: string, title: string, during?: () => Promise<void>) {
  const nodes = await nodeGroup(group, 20, { "pool-0": 100 });
  return run(title, { namespace: group, group, nodes, pods: samePods(group, 80, 30, className) }, during);
}

/** What every scenario ends with: no VG overcommitted, the ledger equal to the PVs, no PVC stuck. */
function promiseKept(t: ExecutionContext, f: Figures & { ledger: unknown; pvs: unknown }) {
  t.deepEqual(f.overcommitted, []);
  t.deepEqual(f.ledger, f.pvs);
  t.deepEqual(f.stuck, []);
}

test("(a) ties: 20 identical nodes × 100Gi, 80 pods × 30Gi at once: 60 bound, no overcommit, nothing stuck, no reschedule", async (t) => {
  const f = await ties("ties", "nls-lvm", "(a) ties, --placement=decide");
  t.is(f.bound, 60);
  promiseKept(t, f);
  t.is(f.reschedules, 0);
});

test("(b) ties with a class that names its VG (no reserve call): 60 bound, nothing stuck", async (t) => {
  const f = await ties("named", "nls-lvm-pool0", "(b) ties, class with vgName, --placement=decide");
  t.is(f.bound, 60);
  promiseKept(t, f);
  t.is(f.reschedules, 0);
  t.is(ctx.lvm.refusals, 0, "lvcreate never refused for lack of space");
});

test("(c) mixed sizes, two VGs per node, one or two PVCs per pod: no overcommit, nothing stuck, no pending pod fits", async (t) => {
  const nodes = await nodeGroup("mixed", 10, { "pool-0": 100, "pool-1": 60 });
  const shapes = [[40], [25, 10], [60], [15], [35, 20], [50], [10, 10], [30], [45, 15], [20]];
  const pods: PodSpec[] = Array.from({ length: 50 }, (_, i) => ({
    name: `mixed-${i}`,
    // A second volume comes from the class that names pool-0: the CSI driver skips the reserve call.
    claims: shapes[i % shapes.length]!.map((gi, k) => ({
      name: `mixed-${i}-${k}`,
      gi,
      className: k === 0 ? "nls-lvm" : "nls-lvm-pool0",
    })),
  }));
  const f = await run("(c) mixed sizes, two VGs, --placement=decide", {
    namespace: "mixed",
    group: "mixed",
    nodes,
    pods,
  });
  promiseKept(t, f);
  t.is(f.reschedules, 0);
  t.true(f.bound > 0 && f.pending > 0, "the burst asks for more than fits");
  for (const pod of f.pendingPods) {
    const claims = pod.claims.map((c) => ({
      bytes: c.gi * GiB,
      vg: c.className === "nls-lvm-pool0" ? "pool-0" : undefined,
    }));
    t.is(
      fitsSomewhere(claims, f.free),
      undefined,
      `pending ${pod.name} (${pod.claims.map((c) => c.gi)}Gi) fits; kube-scheduler said: ${pod.message}`,
    );
  }
});

test("(d) the extender restarted mid-burst: 60 bound, no overcommit, nothing stuck", async (t) => {
  const provisioned = () =>
    ctx.csi.attempts.filter((a) => a.outcome === "created" && a.pvc.startsWith("restart/")).length;
  const f = await ties("restart", "nls-lvm", "(d) extender restarted mid-burst, --placement=decide", async () => {
    await waitFor("a third of the burst provisioned", async () => (provisioned() >= 20 ? true : undefined));
    t.is(await restartExtender(), 0);
  });
  t.is(f.bound, 60);
  promiseKept(t, f);
});

test("(a′) ties with --placement=score: no overcommit, nothing stuck (reschedules are measured)", async (t) => {
  t.is(await restartExtender(["--placement=score"]), 0);
  const f = await ties("scored", "nls-lvm", "(a′) ties, --placement=score");
  t.is(f.bound, 60);
  promiseKept(t, f);
});
