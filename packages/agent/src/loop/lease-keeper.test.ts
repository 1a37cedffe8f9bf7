import test from "ava";
import { leaseNameForNode } from "@nls/api";
import { NODE, setupAgent } from "../../testing/agent-harness.js";

test("the lease is created, then renewed in place", async (t) => {
  const { kube, agent, clock } = setupAgent();
  await agent.renewLease();
  const name = leaseNameForNode(NODE);
  const created = kube.leases.get(`kube-system/${name}`)!;
  t.is(created.holderIdentity, NODE);
  t.is(created.leaseDurationSeconds, 40);
  t.is(created.renewTime.toISOString(), "2026-05-01T10:00:00.000Z");
  t.deepEqual(created.owner, { name: NODE, uid: `uid-${NODE}`, labels: { zone: "a", disk: "nvme" } });

  clock.advance(10_000);
  await agent.renewLease();
  const renewed = kube.leases.get(`kube-system/${name}`)!;
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
  const key = `kube-system/${leaseNameForNode(NODE)}`;
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
