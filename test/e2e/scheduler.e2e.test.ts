/**
 * The real kube-scheduler with the built `nls-extender` registered as in deploy/scheduler, the extender
 * running as its ServiceAccount with deploy/ RBAC. Nodes, their NodeLocalStorage and agent Leases are
 * written directly (no kubelet or agent runs): the question here is what the scheduler decides.
 */
import { gatedSerial } from "../gate.js";
import { e2eGate, freePort, startDeployedCluster, waitFor, type Cluster } from "./cluster.js";
import { schedulerConfigFor, startExtender, type ExtenderProcess } from "./daemons.js";
import { failedSchedulingMessages } from "./events.js";
import { localPod, localPvc, localStorageClass } from "./local-volumes.js";
import { addStorageNode } from "./node-storage.js";

const GI = 2 ** 30;
const NODES = ["sched-a", "sched-b"];
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# scheduler e2e skipped: ${gate.why}`);

const ctx = {} as { cluster: Cluster; extender: ExtenderProcess; extenderLog: string[]; port: number };

interface CacheDump {
  nodes: unknown;
  ledger: unknown;
  reservations: { live: number };
}

const apply = (obj: unknown) => ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));

const addNode = (name: string, vgAllocatable: number) =>
  addStorageNode(ctx.cluster, name, { vgs: [{ name: "pool-0", bytes: vgAllocatable }] });

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startDeployedCluster({ defaultServiceAccount: true }));
  for (const n of NODES) await addNode(n, 100 * GI);
  await apply(localStorageClass("nls-lvm"));

  ctx.port = await freePort();
  ctx.extenderLog = [];
  ctx.extender = await startExtender(cluster, ctx.port, { log: ctx.extenderLog, webhook: true });
  // deploy/'s scheduler configuration, pointed at this extender and this API server.
  await cluster.startScheduler(await schedulerConfigFor(`http://127.0.0.1:${ctx.port}`));
});

test.after.always(async () => {
  await ctx.extender?.stop();
  await ctx.cluster?.stop();
});

const pvc = (name: string, size: string) => localPvc("default", name, size, "nls-lvm");
const pod = (name: string, claims: string[]) => localPod("default", name, claims);

async function selectedNodes(prefix: string): Promise<Map<string, string>> {
  const list = JSON.parse(await ctx.cluster.kubectlOk(["get", "pvc", "-n", "default", "-o", "json"]));
  const out = new Map<string, string>();
  for (const p of list.items) {
    const node = p.metadata.annotations?.["volume.kubernetes.io/selected-node"];
    if (p.metadata.name.startsWith(prefix) && node) out.set(p.metadata.name, node);
  }
  return out;
}

test("a burst of pods never overcommits a VG: 8 × 30Gi onto two 100Gi VGs places exactly 6", async (t) => {
  t.teardown(() => {
    if (!t.passed) t.log(ctx.extenderLog.slice(-40).join("\n"));
  });
  const n = 8;
  // All at once, as a StatefulSet or a Job burst would create them.
  const objects = [];
  for (let i = 0; i < n; i++) objects.push(pvc(`burst-${i}`, "30Gi"), pod(`burst-${i}`, [`burst-${i}`]));
  await ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));

  const selected = await waitFor(
    "six PVCs with a selected node and two pods refused",
    async () => {
      const s = await selectedNodes("burst-");
      if (s.size < 6) return undefined;
      const pending = [];
      for (let i = 0; i < n; i++) if (![...s.keys()].includes(`burst-${i}`)) pending.push(`burst-${i}`);
      for (const p of pending) if ((await failedSchedulingMessages(ctx.cluster, p)).length === 0) return undefined;
      return s;
    },
    120_000,
  );
  const perNode = new Map<string, number>();
  for (const node of selected.values()) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  t.is(selected.size, 6, `placed: ${JSON.stringify([...selected])}`);
  for (const node of NODES) t.is(perNode.get(node), 3, `${node} holds 3 × 30Gi of its 100Gi`);
  const refused = [...Array(n).keys()].map((i) => `burst-${i}`).find((p) => !selected.has(p))!;
  const messages = await failedSchedulingMessages(ctx.cluster, refused);
  // One short reason for both nodes, so kube-scheduler's event groups them; the numbers are in the extender's log.
  t.regex(messages.join("\n"), /0\/2 nodes are available: 2 insufficient local storage \(LVM\)\./);
  const refusals = ctx.extenderLog
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg?: string; refusals?: Record<string, { example: { detail: string } }> })
    .filter((l) => l.msg === "filter" && l.refusals);
  t.true(
    refusals.some(
      (l) =>
        l.refusals!["insufficient local storage (LVM)"]?.example.detail === "vg pool-0: need 30Gi, free 10Gi of 100Gi",
    ),
  );
});

test("a restarted extender rebuilds the same ledger from the API: the last 10Gi fit, 30Gi more does not", async (t) => {
  const debugAddress = { host: "127.0.0.1", port: ctx.extender.debugPort };
  const cache = async () => (await (await fetch(`http://127.0.0.1:${debugAddress.port}/cache`)).json()) as CacheDump;
  const before = await cache();
  t.is(await ctx.extender.stop(), 0, "SIGTERM ends the extender cleanly");
  ctx.extender = await startExtender(ctx.cluster, ctx.port, { log: ctx.extenderLog, debugAddress, webhook: true });
  const after = await cache();
  // The ledger and the per-node views must match; reservation counters are per process.
  t.deepEqual(after.ledger, before.ledger);
  t.deepEqual(after.nodes, before.nodes);
  t.is(after.reservations.live, 0);

  await ctx.cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        pvc("late-small", "10Gi"),
        pod("late-small", ["late-small"]),
        pvc("late-big", "30Gi"),
        pod("late-big", ["late-big"]),
      ],
    }),
  );
  const placed = await waitFor(
    "the 10Gi PVC to get a node and the 30Gi pod to be refused",
    async () => {
      const s = await selectedNodes("late-");
      return s.has("late-small") && (await failedSchedulingMessages(ctx.cluster, "late-big")).length > 0
        ? s
        : undefined;
    },
    120_000,
  );
  t.false(placed.has("late-big"));
  t.true(NODES.includes(placed.get("late-small")!));
});

test("pods without local volumes pass straight through the extender", async (t) => {
  await apply(pod("plain", []));
  const nodeName = await waitFor("the plain pod to be bound", async () => {
    const p = JSON.parse(await ctx.cluster.kubectlOk(["get", "pod", "plain", "-n", "default", "-o", "json"]));
    return p.spec.nodeName || undefined;
  });
  t.true(NODES.includes(nodeName));
});

test("a PVC whose StorageClass is missing blocks nobody else (open-local #211)", async (t) => {
  await apply({ ...pvc("orphan", "1Gi"), spec: { ...pvc("orphan", "1Gi").spec, storageClassName: "does-not-exist" } });
  await apply(pod("bystander", []));
  const nodeName = await waitFor("the bystander pod to be bound", async () => {
    const p = JSON.parse(await ctx.cluster.kubectlOk(["get", "pod", "bystander", "-n", "default", "-o", "json"]));
    return p.spec.nodeName || undefined;
  });
  t.true(NODES.includes(nodeName));
});
