import test from "ava";
import { DEFAULT_LEASE_NAMESPACE, leaseNameForNode } from "@nls/api";
import { NODE, setupAgent } from "../../testing/agent-harness.js";
import { staleBound } from "../agent.js";

test("the lease is created, then renewed in place", async (t) => {
  const { kube, agent, clock } = setupAgent();
  await agent.renewLease();
  const name = leaseNameForNode(NODE);
  const created = kube.leases.get(`nls-node-lease/${name}`)!;
  t.is(created.holderIdentity, NODE);
  t.is(created.leaseDurationSeconds, 40);
  t.is(created.renewTime.toISOString(), "2026-05-01T10:00:00.000Z");
  t.deepEqual(created.owner, { name: NODE, uid: `uid-${NODE}`, labels: { zone: "a", disk: "nvme" } });

  clock.advance(10_000);
  await agent.renewLease();
  const renewed = kube.leases.get(`nls-node-lease/${name}`)!;
  t.is(renewed.renewTime.toISOString(), "2026-05-01T10:00:10.000Z");
  t.is(renewed.acquireTime?.toISOString(), "2026-05-01T10:00:00.000Z");
  t.deepEqual(
    kube.writes.filter((w) => w.kind.endsWith("Lease")).map((w) => w.kind),
    ["createLease", "replaceLease"],
  );
});

test("a lease changed behind the agent's back is re-read and taken back", async (t) => {
  const { kube, agent, clock } = setupAgent();
  await agent.renewLease();
  const key = `nls-node-lease/${leaseNameForNode(NODE)}`;
  kube.leases.set(key, { ...kube.leases.get(key)!, holderIdentity: "someone-else", resourceVersion: "9999" });
  clock.advance(10_000);
  await t.throwsAsync(agent.renewLease(), { message: /Operation cannot be fulfilled/ });
  clock.advance(10_000);
  await agent.renewLease();
  const lease = kube.leases.get(key)!;
  t.is(lease.holderIdentity, NODE);
  t.is(lease.acquireTime?.toISOString(), "2026-05-01T10:00:20.000Z");
});

test("a wedged reconcile stops the lease renewals, so the agent looks dead rather than quiet", async (t) => {
  const { agent, host, clock, kube } = setupAgent({ config: { stuckAfterMs: 600_000 } });
  await agent.renewLease();
  let release!: () => void;
  host.discover = () =>
    new Promise((resolve) => {
      release = () => resolve(structuredClone(host.facts));
    });
  const step = agent.step();
  clock.advance(60_000);
  await agent.renewLease(); // a slow pass is still fine
  clock.advance(600_000);
  await t.throwsAsync(agent.renewLease(), {
    message: /not renewing the lease: the current reconcile has been running for 660s/,
  });
  t.is(kube.writes.filter((w) => w.kind === "replaceLease").length, 1);
  release();
  t.truthy(await step);
  await agent.renewLease(); // the loop moved again: renewals resume
  t.is(kube.writes.filter((w) => w.kind === "replaceLease").length, 2);
});

test("status writes that keep failing let the lease lapse once the last complete pass is staleAfter old", async (t) => {
  const { agent, host, clock, kube } = setupAgent({ config: { staleAfterMs: 300_000 } });
  t.truthy(await agent.step());
  await agent.renewLease();
  kube.statusConflicts = 1_000;
  for (let i = 0; i < 5; i++) {
    clock.advance(60_000);
    host.facts.vgs[0]!.free -= 10; // a change, so every pass tries to write
    t.is(await agent.step(), undefined);
    await agent.renewLease(); // within the bound: one or two failed passes do not take the node out
  }
  clock.advance(60_000);
  t.is(await agent.step(), undefined);
  await t.throwsAsync(agent.renewLease(), { message: /not renewing the lease: no complete reconcile for 360s/ });
  kube.statusConflicts = 0;
  t.truthy(await agent.step());
  await agent.renewLease();
  t.is(kube.writes.filter((w) => w.kind === "replaceLease").length, 6);
});

test("a host that cannot be read is an error, not a success: the lease lapses after staleAfter", async (t) => {
  const { agent, host, clock, metrics } = setupAgent({ config: { staleAfterMs: 300_000 } });
  t.truthy(await agent.step());
  await agent.renewLease();
  host.unreadable = true;
  clock.advance(200_000);
  const r = await agent.step();
  t.is(r?.status.nodeStorageInfo?.state?.reason, "DiscoveryFailed", "the flagged status still goes out");
  await agent.renewLease();
  clock.advance(101_000);
  await t.throwsAsync(agent.renewLease(), { message: /no complete reconcile for 301s/ });
  const text = await metrics.text();
  t.regex(text, /^nls_agent_reconcile_errors_total 1$/m);
  t.regex(
    text,
    /^nls_agent_last_reconcile_success_timestamp_seconds 1777629600$/m,
    "the first pass, not the unreadable one",
  );
  host.unreadable = false;
  t.truthy(await agent.step());
  await agent.renewLease();
});

test("a Node registered again gets a lease owned by its new UID, not the one the agent first saw", async (t) => {
  const { agent, kube } = setupAgent();
  await agent.renewLease();
  const key = `${DEFAULT_LEASE_NAMESPACE}/${leaseNameForNode(NODE)}`;
  t.is(kube.leases.get(key)!.owner?.uid, `uid-${NODE}`);
  // The Node is deleted and registers again; the garbage collector removes the Lease it owned.
  kube.nodes.set(NODE, { name: NODE, uid: "uid-second-life", labels: {} });
  kube.leases.delete(key);
  await t.throwsAsync(agent.renewLease(), { message: /not found/ });
  await agent.renewLease();
  t.is(kube.leases.get(key)!.owner?.uid, "uid-second-life");
});

test("the staleness bound is three intervals, never under five minutes", (t) => {
  t.is(staleBound(10_000), 300_000);
  t.is(staleBound(60_000), 300_000);
  t.is(staleBound(5 * 60_000), 900_000);
});
