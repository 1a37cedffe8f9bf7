import test from "ava";
import type { NodeLocalStorageSpec } from "@nls/api";
import { NODE, setupAgent } from "../../testing/agent-harness.js";

// The reconcile pass: the status is computed from the user's spec and written only when it changed,
// with a re-read and retry on conflict.

test("a user's spec is never overwritten, and is what the status is computed from", async (t) => {
  const userSpec: NodeLocalStorageSpec = { nodeName: NODE, listConfig: { vgs: { include: ["pool0", "other"] } } };
  const { kube, agent, host } = setupAgent({ nlsSpec: userSpec });
  await agent.reconcile();
  host.facts.vgs[0]!.free = 10;
  await agent.reconcile();
  t.deepEqual(kube.nls.get(NODE)!.spec, userSpec);
  t.is(kube.writesOf("createNls").length, 0);
  t.deepEqual(kube.nls.get(NODE)!.status?.filteredStorageInfo?.volumeGroups, ["pool0"]);
});

test("a steady node makes zero writes after the first status", async (t) => {
  const { kube, agent, clock, metrics } = setupAgent();
  await agent.reconcile();
  const writesAfterFirst = kube.writes.length;
  for (let i = 0; i < 5; i++) {
    clock.advance(60_000);
    const r = await agent.reconcile();
    t.false(r.wroteStatus);
  }
  t.is(kube.writes.length, writesAfterFirst);
  t.is(kube.writesOf("replaceNlsStatus").length, 1);
  t.regex(await metrics.text(), /nls_agent_api_writes_total\{kind="nls_status",result="ok"\} 1$/m);
});

test("a host change is written once, with a new heartbeat", async (t) => {
  const { kube, agent, clock, host } = setupAgent();
  await agent.reconcile();
  const before = kube.nls.get(NODE)!.status!;
  clock.advance(60_000);
  host.facts.vgs[0]!.free = 400;
  t.true((await agent.reconcile()).wroteStatus);
  clock.advance(60_000);
  t.false((await agent.reconcile()).wroteStatus);
  const after = kube.nls.get(NODE)!.status!;
  t.is(after.nodeStorageInfo?.volumeGroups?.[0]?.available, 400);
  t.not(after.nodeStorageInfo?.state?.lastHeartbeatTime, before.nodeStorageInfo?.state?.lastHeartbeatTime);
  t.is(after.nodeStorageInfo?.state?.lastTransitionTime, before.nodeStorageInfo?.state?.lastTransitionTime);
});

test("a status conflict re-reads the NLS and succeeds", async (t) => {
  const { kube, agent, metrics, host } = setupAgent();
  await agent.reconcile(); // creates the NLS and writes the first status
  kube.userSetAnnotations(NODE, { note: "x" });
  host.facts.vgs[0]!.free = 1;
  kube.statusConflicts = 1;
  const r = await agent.reconcile();
  t.true(r.wroteStatus);
  t.is(kube.nls.get(NODE)!.status?.nodeStorageInfo?.volumeGroups?.[0]?.available, 1);
  t.regex(await metrics.text(), /nls_agent_api_writes_total\{kind="nls_status",result="conflict"\} 1$/m);
  // The annotation written concurrently survives: status writes never touch metadata.
  t.deepEqual(kube.nls.get(NODE)!.metadata.annotations, { note: "x" });
});

test("a status write that keeps conflicting gives up with a clear error after maxStatusAttempts", async (t) => {
  const { kube, agent, host } = setupAgent({ config: { maxStatusAttempts: 3 } });
  await agent.reconcile();
  host.facts.vgs[0]!.free = 2;
  kube.statusConflicts = 100;
  await t.throwsAsync(agent.reconcile(), { message: /still conflicting after 3 attempts/ });
  t.is(kube.statusConflicts, 97);
  t.is(kube.nls.get(NODE)!.status?.nodeStorageInfo?.volumeGroups?.[0]?.available, 1000);
});
