/**
 * Two built extenders with `--leader-elect`, each writing the Service's EndpointSlice when it leads, a
 * kube-proxy stand-in routing the Service by that slice (service-proxy.ts), the real kube-scheduler in
 * front. The leader is killed with SIGKILL in the middle of a burst: the standby takes over once the
 * Lease lapses and points the slice at itself, the burst completes, and no VG is promised more than it
 * holds.
 */
import { gatedSerial } from "../gate.js";
import { ADMIN_TOKEN, e2eGate, freePort, startDeployedCluster, waitFor, type Cluster } from "./cluster.js";
import { schedulerConfigFor, startExtender, type ExtenderProcess } from "./daemons.js";
import { kubeApi } from "./kube-api.js";
import { startServiceProxy, type ServiceProxy } from "./service-proxy.js";
import { localPod, localPvc, localStorageClass } from "./local-volumes.js";
import { addStorageNode } from "./node-storage.js";

const GI = 2 ** 30;
const NODES = ["fail-a", "fail-b"];
const LEASE_SECONDS = 4;
const ELECTION = [
  "--leader-elect",
  "--leader-elect-lease-duration",
  `${LEASE_SECONDS}s`,
  "--leader-elect-renew-deadline",
  "3s",
  "--leader-elect-retry-period",
  "500ms",
];
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# failover e2e skipped: ${gate.why}`);

const ctx = {} as { cluster: Cluster; replicas: ExtenderProcess[]; ips: string[]; proxy: ServiceProxy };
const apply = (obj: unknown) => ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));
const ready = async (port: number) =>
  (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true;
/** The replica's "pod IP": what it writes into the slice, and what the kube-proxy stand-in maps to its port. */
const IPS = ["10.88.0.1", "10.88.0.2"];
const replicaArgs = (i: number) => [
  ...ELECTION,
  "--leader-endpoint-slices",
  "nls-extender",
  "--pod-ip",
  IPS[i]!,
  "--pod-name",
  `nls-extender-${i}`,
];

const addNode = (name: string) => addStorageNode(ctx.cluster, name, { vgs: [{ name: "pool-0", bytes: 100 * GI }] });

const claimAndPod = (name: string, size: string) => [
  localPvc("default", name, size, "nls-lvm"),
  localPod("default", name, [name]),
];

/** PVC name → the node kube-scheduler selected for it (its PreBind annotation). */
async function selectedNodes(): Promise<Map<string, string>> {
  const list = JSON.parse(await ctx.cluster.kubectlOk(["get", "pvc", "-n", "default", "-o", "json"]));
  const out = new Map<string, string>();
  for (const p of list.items) {
    const node = p.metadata.annotations?.["volume.kubernetes.io/selected-node"];
    if (node) out.set(p.metadata.name, node);
  }
  return out;
}

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startDeployedCluster({ defaultServiceAccount: true }));
  for (const n of NODES) await addNode(n);
  await apply(localStorageClass("nls-lvm"));
  const first = await startExtender(cluster, await freePort(), { args: replicaArgs(0), webhook: true });
  ctx.replicas = [first];
  ctx.proxy = await startServiceProxy(
    kubeApi(cluster.server, ADMIN_TOKEN),
    "kube-system",
    "nls-extender",
    "http",
    (b) => ctx.replicas[IPS.indexOf(b.ip)]?.port,
  );
  // The first replica leads before the second starts: the tests below know who is who.
  await waitFor("the first replica in the Service's slice", async () =>
    ctx.proxy.backends()[0]?.ip === IPS[0] ? true : undefined,
  );
  ctx.replicas.push(await startExtender(cluster, await freePort(), { args: replicaArgs(1), webhook: true }));
  await cluster.startScheduler(await schedulerConfigFor(`http://127.0.0.1:${ctx.proxy.port}`));
});

test.after.always(async () => {
  await ctx.proxy?.close();
  for (const r of ctx.replicas ?? []) await r.stop();
  await ctx.cluster?.stop();
});

test("both replicas are ready; only the leader serves, and the Service's slice names it alone", async (t) => {
  const [a, b] = ctx.replicas as [ExtenderProcess, ExtenderProcess];
  t.true(await ready(a.port));
  t.true(await ready(b.port), "a standby with synced caches is ready: a rollout or a drain may count on it");
  const verbose = await (await fetch(`http://127.0.0.1:${b.port}/readyz?verbose`)).text();
  t.regex(verbose, /\[\+\]role ok: standby: lease kube-system\/nls-extender is held by nls-extender-0_/);
  t.regex(await (await fetch(`http://127.0.0.1:${a.port}/readyz?verbose`)).text(), /\[\+\]role ok: leader\n/);
  const filter = await fetch(`http://127.0.0.1:${b.port}/scheduler/predicates`, { method: "POST", body: "{}" });
  t.is(filter.status, 503);
  t.deepEqual(
    ctx.proxy.backends().map((x) => x.ip),
    [IPS[0]],
  );
  const slice = JSON.parse(
    await ctx.cluster.kubectlOk(["get", "endpointslice", "-n", "kube-system", "nls-extender", "-o", "json"]),
  );
  t.like(slice.endpoints[0], { addresses: [IPS[0]], targetRef: { kind: "Pod", name: "nls-extender-0" } });
});

test("SIGKILL of the leader mid-burst: the standby takes over, the burst completes, no VG overcommitted", async (t) => {
  const [leader, standby] = ctx.replicas as [ExtenderProcess, ExtenderProcess];
  // 16 × 10Gi onto two 100Gi VGs: all fit, but only if no space is promised twice.
  const names = [...Array(16).keys()].map((i) => `fo-${i}`);
  await ctx.cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: names.slice(0, 8).flatMap((n) => claimAndPod(n, "10Gi")) }),
  );
  await waitFor("some of the first half placed", async () => ((await selectedNodes()).size >= 3 ? true : undefined));
  leader.child.kill("SIGKILL");
  const killedAt = Date.now();
  await leader.exited;
  await ctx.cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: names.slice(8).flatMap((n) => claimAndPod(n, "10Gi")) }),
  );
  const tookOver = await waitFor("the Service routed to the standby", async () =>
    ctx.proxy.backends().some((b) => b.ip === IPS[1]) ? Date.now() : undefined,
  );
  const selected = await waitFor(
    "every pod of the burst placed",
    async () => {
      const s = await selectedNodes();
      return names.every((n) => s.has(n)) ? s : undefined;
    },
    120_000,
  );
  const placedAt = Date.now();
  t.log(
    `Service routed to the new leader ${tookOver - killedAt} ms after SIGKILL (lease ${LEASE_SECONDS}s); ` +
      `whole burst placed ${placedAt - killedAt} ms after it; connections refused by the dead leader's address: ${ctx.proxy.failed}`,
  );
  const perNode = new Map<string, number>();
  for (const n of names) perNode.set(selected.get(n)!, (perNode.get(selected.get(n)!) ?? 0) + 10);
  for (const [node, gi] of perNode) t.true(gi <= 100, `${node} promised ${gi}Gi of 100Gi`);
  t.true(standby.log.some((l) => l.includes("became the leader")));
  t.true(
    standby.log.some((l) => l.includes("leader endpoint written") && l.includes(IPS[0]!)),
    "it replaced the dead leader's address",
  );
});
