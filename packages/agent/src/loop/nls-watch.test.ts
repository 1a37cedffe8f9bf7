import test from "ava";
import { createLogger } from "@nls/daemon";
import { NODE, eventually, setupAgent } from "../../testing/agent-harness.js";
import { FakeKube } from "../../testing/fake-kube.js";
import { NlsWatch } from "./nls-watch.js";

// The watch on the NLS, as the running agent keeps it.

test("run: a dropped watch is restarted, and a deleted NLS is recreated", async (t) => {
  const { kube, agent } = setupAgent({ config: { intervalMs: 3_600_000, leaseRenewMs: 3_600_000, watchRestartMs: 1 } });
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  await eventually(() => agent.ready && kube.openWatches === 1, "first watch");
  kube.breakWatches();
  t.is(kube.openWatches, 0);
  await eventually(() => kube.openWatches === 1, "watch restarted");

  kube.nls.delete(NODE);
  // The fake does not notify on direct map edits: poke the loop the way a DELETED event would.
  agent.trigger();
  await eventually(
    () => kube.writesOf("createNls").length === 2 && kube.nls.get(NODE)?.status !== undefined,
    "recreated",
  );
  stop.abort();
  await running;
});

test("run: a long-lived watch is replaced by a fresh one, without waiting for it to fail", async (t) => {
  const { kube, agent } = setupAgent({
    config: { intervalMs: 3_600_000, leaseRenewMs: 3_600_000, watchRestartMs: 3_600_000, watchMaxAgeMs: 20 },
  });
  let started = 0;
  const watchNls = kube.watchNls.bind(kube);
  kube.watchNls = (...args) => {
    started++;
    return watchNls(...args);
  };
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  // watchRestartMs is an hour: only the renewal can start a second and third watch.
  await eventually(() => started >= 3, "watch renewed");
  t.true(kube.openWatches <= 1);
  stop.abort();
  await running;
  t.is(kube.openWatches, 0);
});

test("NlsWatch: events reach the handler; a dropped watch is restarted; an abort leaves none open", async (t) => {
  const kube = new FakeKube();
  kube.nls.set("n1", { metadata: { name: "n1", resourceVersion: "1" } });
  const seen: string[] = [];
  const watch = new NlsWatch(
    kube,
    createLogger("nls-agent", "silent"),
    { nodeName: "n1", restartMs: 1, maxAgeMs: 3_600_000 },
    (type, nls) => seen.push(`${type} ${nls.metadata.name}`),
  );
  const stop = new AbortController();
  const running = watch.keepWatching(stop.signal);
  await eventually(() => kube.openWatches === 1, "watching");
  kube.userSetAnnotations("n1", { a: "b" });
  kube.breakWatches();
  await eventually(() => kube.openWatches === 1 && seen.length === 3, "watching again");
  t.deepEqual(seen, ["ADDED n1", "MODIFIED n1", "ADDED n1"]);
  stop.abort();
  await running;
  t.is(kube.openWatches, 0);
});
