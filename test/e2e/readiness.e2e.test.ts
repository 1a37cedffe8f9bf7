/**
 * Readiness tells the truth: the built extender against a real kube-apiserver that is stopped and
 * started again. While the API server is away every cache feed is blind; past the threshold the
 * extender answers /readyz 503 naming the feeds, and its unsynced-seconds gauge grows. When the API
 * server is back, the feeds restart on their own, the replica is ready again, and the caches follow
 * new objects.
 */
import { gatedSerial } from "../gate.js";
import { e2eGate, freePort, startDeployedCluster, waitFor, type Cluster } from "./cluster.js";
import { startExtender, type ExtenderProcess } from "./daemons.js";
import { addStorageNode } from "./node-storage.js";

const GI = 2 ** 30;
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# readiness e2e skipped: ${gate.why}`);

const ctx = {} as { cluster: Cluster; extender: ExtenderProcess; log: string[] };
const readyz = async (verbose = false) => {
  const res = await fetch(`http://127.0.0.1:${ctx.extender.port}/readyz${verbose ? "?verbose" : ""}`);
  return { status: res.status, text: await res.text() };
};
const metrics = async () => (await fetch(`http://127.0.0.1:${ctx.extender.port}/metrics`)).text();

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startDeployedCluster());
  ctx.log = [];
  ctx.extender = await startExtender(cluster, await freePort(), { log: ctx.log });
});

test.after.always(async () => {
  await ctx.extender?.stop();
  await ctx.cluster?.stop();
});

test("a blind cache makes the extender unready, naming the feeds; it recovers by itself when the API server is back", async (t) => {
  const before = await readyz(true);
  t.is(before.status, 200, before.text);
  t.regex(before.text, /^\[\+\]watch PersistentVolumeClaim ok$/m);
  t.regex(before.text, /readyz check passed\n$/);

  await ctx.cluster.stopApiServer();
  const blind = await waitFor("the extender to turn unready", async () => {
    const r = await readyz();
    return r.status === 503 ? r : undefined;
  });
  t.regex(blind.text, /^caches not ready: .*watch down for \d+s/);
  const verbose = await readyz(true);
  t.regex(verbose.text, /^\[-\]watch NodeLocalStorage failed: NodeLocalStorage: watch down for \d+s$/m);
  t.regex(verbose.text, /^\[\+\]shutdown ok$/m);
  t.regex(verbose.text, /readyz check failed\n$/);
  const gauge = /^nls_extender_watch_unsynced_seconds\{kind="PersistentVolume"\} ([\d.]+)$/m.exec(await metrics());
  t.true(Number(gauge?.[1]) > 20, `unsynced seconds ${gauge?.[1]}`);
  t.regex(await metrics(), /^nls_extender_watch_failures_total\{kind="PersistentVolume"\} [1-9]/m);

  await ctx.cluster.startApiServer();
  const back = await waitFor(
    "the extender to be ready again",
    async () => {
      const r = await readyz(true);
      return r.status === 200 ? r : undefined;
    },
    120_000,
  );
  t.regex(back.text, /readyz check passed\n$/);
  t.regex(await metrics(), /^nls_extender_watch_unsynced_seconds\{kind="NodeLocalStorage"\} 0$/m);
  t.true(
    ctx.log.some((l) => l.includes('"watch restored"')),
    "the log says when a feed came back",
  );

  // The feeds are live again: a node's storage created now reaches the extender's cache.
  await addStorageNode(ctx.cluster, "after-restart", { vgs: [{ name: "pool-0", bytes: 100 * GI }] });
  await waitFor("the new node's VG in the extender's gauges", async () =>
    /^local_volume_group_total\{[^}]*nodename="after-restart"[^}]*\} 107374182400$/m.test(await metrics())
      ? true
      : undefined,
  );
  t.pass();
});
