import test from "ava";
import { leaseNameForNode } from "@nls/api";
import { NODE, eventually, setupAgent } from "../testing/agent-harness.js";

// The wired agent: its run loop and its step.

test("run: a spec change triggers a reconcile without waiting for the interval", async (t) => {
  const { kube, agent } = setupAgent({ config: { intervalMs: 3_600_000, leaseRenewMs: 3_600_000 } });
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  await eventually(() => agent.ready && kube.openWatches === 1, "first reconcile and watch");
  t.deepEqual(kube.nls.get(NODE)!.status?.filteredStorageInfo?.volumeGroups, ["pool0"]);

  kube.userUpdateSpec(NODE, { nodeName: NODE, listConfig: { vgs: { include: [] } } });
  await eventually(
    () => kube.nls.get(NODE)!.status?.filteredStorageInfo?.volumeGroups?.length === 0,
    "status after spec change",
  );
  t.true(kube.leases.has(`nls-node-lease/${leaseNameForNode(NODE)}`));

  stop.abort();
  await running;
  t.is(kube.openWatches, 0);
});

test("step never throws: a failed reconcile is counted, a successful one stamps the last-success gauge", async (t) => {
  const { kube, agent, metrics } = setupAgent();
  kube.nodes.clear(); // the NLS cannot be created without its Node
  t.is(await agent.step(), undefined);
  t.false(agent.ready);
  let text = await metrics.text();
  t.regex(text, /^nls_agent_reconcile_errors_total 1$/m);
  t.regex(text, /^nls_agent_last_reconcile_success_timestamp_seconds 0$/m);

  kube.addNode(NODE);
  t.truthy(await agent.step());
  t.true(agent.ready);
  text = await metrics.text();
  t.regex(text, /^nls_agent_last_reconcile_success_timestamp_seconds 1777629600$/m);
  t.regex(text, /^nls_agent_scan_duration_seconds_count 2$/m);
});

test("run: a VG whose intent was just recorded is created in the very next pass, not an interval later", async (t) => {
  const { kube, agent, host } = setupAgent({
    config: { intervalMs: 3_600_000, leaseRenewMs: 3_600_000 },
    nlsSpec: { nodeName: NODE, resourceToBeInited: { vgs: [{ name: "pool-new", devices: ["/dev/sdb"] }] } },
  });
  host.announceFirst = true;
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  await eventually(() => host.facts.vgs.some((v) => v.name === "pool-new"), "the VG created");
  t.deepEqual(
    host.initCalls.map((c) => c.vgs?.map((v) => v.name)),
    [["pool-new"], ["pool-new"]],
  );
  t.is(kube.events.filter((e) => e.event.reason === "VolumeGroupCreated").length, 1);
  stop.abort();
  await running;
});

test("reconcile: an intent the stored status does not hold (an old CRD prunes it) is not followed by a pass", async (t) => {
  const { agent, host } = setupAgent({
    nlsSpec: { nodeName: NODE, resourceToBeInited: { vgs: [{ name: "pool-new", devices: ["/dev/sdb"] }] } },
  });
  host.announceFirst = true;
  host.dropJournal = true;
  const r = await agent.reconcile();
  t.deepEqual(
    r.initOutcomes.map((o) => o.result),
    ["pending"],
  );
  t.false(r.createNext, "no record stored: no pass right away (it would only announce again)");
});
