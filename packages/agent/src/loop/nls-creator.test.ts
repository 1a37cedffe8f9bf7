import test from "ava";
import type { NodeLocalStorageSpec } from "@nls/api";
import { NODE, setupAgent } from "../../testing/agent-harness.js";

// The NLS's creation, through the agent's reconcile against the in-memory API server.

test("a missing NLS is created from the init config: last matching nodesConfig, owned by the Node", async (t) => {
  const { kube, agent } = setupAgent();
  const r = await agent.reconcile();
  t.true(r.createdNls);
  const nls = kube.nls.get(NODE)!;
  t.deepEqual(nls.spec, { nodeName: NODE, listConfig: { vgs: { include: ["pool0"] } } });
  t.deepEqual(nls.metadata.ownerReferences, [{ apiVersion: "v1", kind: "Node", name: NODE, uid: `uid-${NODE}` }]);
  t.deepEqual(nls.status?.filteredStorageInfo?.volumeGroups, ["pool0"]);
  t.is(kube.writesOf("createNls").length, 1);
  t.true(agent.ready);
});

test("without an init config the NLS gets an empty spec and one warning event", async (t) => {
  const { kube, agent } = setupAgent();
  kube.initConfigs.clear();
  await agent.reconcile();
  t.deepEqual(kube.nls.get(NODE)!.spec, { nodeName: NODE });
  t.deepEqual(
    kube.events.map((e) => e.event.reason),
    ["InitConfigNotFound"],
  );
});

test("a missing Node is a clear error and nothing is created", async (t) => {
  const { kube, agent } = setupAgent();
  kube.nodes.clear();
  await t.throwsAsync(agent.reconcile(), { message: /Node "node-1" does not exist/ });
  t.is(kube.nls.size, 0);
  t.false(agent.ready);
});

test("another creator winning the race is accepted, not overwritten", async (t) => {
  const { kube, agent } = setupAgent();
  const theirs: NodeLocalStorageSpec = { nodeName: NODE, listConfig: { vgs: { include: ["theirs"] } } };
  const realGet = kube.getNls.bind(kube);
  let first = true;
  // The first read misses; by the time the agent creates, someone else already has.
  kube.getNls = async (name) => {
    if (first) {
      first = false;
      kube.nls.set(NODE, { metadata: { name: NODE, resourceVersion: "77", uid: "theirs" }, spec: theirs });
      return undefined;
    }
    return realGet(name);
  };
  const r = await agent.reconcile();
  t.false(r.createdNls);
  t.deepEqual(kube.nls.get(NODE)!.spec, theirs);
});
