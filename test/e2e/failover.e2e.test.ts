/**
 * Two built extenders with `--leader-elect` behind a tiny proxy that forwards to whichever is ready (the
 * Service's part), the real kube-scheduler in front. The leader is killed with SIGKILL in the middle of
 * a burst: the standby takes over once the Lease lapses, the burst completes, and no VG is promised
 * more than it holds.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gatedSerial } from "../gate.js";
import { crdsEstablished, e2eGate, freePort, startCluster, waitFor, type Cluster } from "./cluster.js";
import { schedulerConfigFor, startExtender, type ExtenderProcess } from "./daemons.js";
import { localPod, localPvc, localStorageClass } from "./local-volumes.js";
import { addStorageNode } from "./node-storage.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
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

const ctx = {} as { cluster: Cluster; replicas: ExtenderProcess[]; proxy: Server };
const apply = (obj: unknown) => ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));
const ready = async (port: number) =>
  (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true;

/** Forwards each request to the first replica whose /readyz is 200, as the Service would; else 503. */
function readyProxy(ports: () => number[]): Server {
  return createServer((req, res) => {
    void (async () => {
      let target: number | undefined;
      for (const p of ports()) if (await ready(p)) target = target ?? p;
      if (target === undefined) {
        res.writeHead(503).end("no ready replica");
        return;
      }
      const out = request(
        { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: req.headers },
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(res);
        },
      );
      out.on("error", () => res.writeHead(502).end("replica went away"));
      req.pipe(out);
    })();
  });
}

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
  const cluster = (ctx.cluster = await startCluster());
  await cluster.kubectlOk(["apply", "-k", join(root, "deploy")]);
  await crdsEstablished(cluster);
  await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
  for (const n of NODES) await addNode(n);
  await apply(localStorageClass("nls-lvm"));
  const first = await startExtender(cluster, await freePort(), { args: ELECTION });
  const second = await startExtender(cluster, await freePort(), { args: ELECTION, standby: true });
  ctx.replicas = [first, second];
  ctx.proxy = readyProxy(() =>
    ctx.replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null).map((r) => r.port),
  );
  await new Promise<void>((resolve) => ctx.proxy.listen(0, "127.0.0.1", resolve));
  const proxyPort = (ctx.proxy.address() as AddressInfo).port;
  await cluster.startScheduler(await schedulerConfigFor(`http://127.0.0.1:${proxyPort}`));
});

test.after.always(async () => {
  ctx.proxy?.close();
  for (const r of ctx.replicas ?? []) await r.stop();
  await ctx.cluster?.stop();
});

test("only the leader is ready; the standby says who holds the Lease", async (t) => {
  const [a, b] = ctx.replicas as [ExtenderProcess, ExtenderProcess];
  t.true(await ready(a.port));
  const standby = await fetch(`http://127.0.0.1:${b.port}/readyz`);
  t.is(standby.status, 503);
  t.regex(await standby.text(), /standby: lease kube-system\/nls-extender is held by /);
  const filter = await fetch(`http://127.0.0.1:${b.port}/scheduler/predicates`, { method: "POST", body: "{}" });
  t.is(filter.status, 503);
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
  const tookOver = await waitFor("the standby ready", async () =>
    (await ready(standby.port)) ? Date.now() : undefined,
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
  t.log(`standby ready ${tookOver - killedAt} ms after SIGKILL; whole burst placed ${placedAt - killedAt} ms after it`);
  const perNode = new Map<string, number>();
  for (const n of names) perNode.set(selected.get(n)!, (perNode.get(selected.get(n)!) ?? 0) + 10);
  for (const [node, gi] of perNode) t.true(gi <= 100, `${node} promised ${gi}Gi of 100Gi`);
  t.true(standby.log.some((l) => l.includes("became the leader")));
});
