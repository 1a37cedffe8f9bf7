import { setTimeout as sleep } from "node:timers/promises";
import { gatedSerial } from "../gate.js";
import { ADMIN_TOKEN, e2eGate, startCluster, type Cluster } from "../e2e/cluster.js";
import { kubeApi } from "../e2e/kube-api.js";
import { watchBindings } from "./pod-bindings.js";

const gate = await e2eGate();
const test = gatedSerial<{ cluster: Cluster }>(gate.run);

test.before(async (t) => {
  t.context.cluster = await startCluster();
});

test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

// The bench's stall: every pod was bound, the pods' watch had been cut off, and no pod changed again
// while other objects did. A watch opened then must still see every binding.
test("pods bound before the watch opens, with other objects written since, are all counted", async (t) => {
  const { cluster } = t.context;
  const api = kubeApi(cluster.server, ADMIN_TOKEN);
  const namespace = "quiet-pods";
  await api.post("/api/v1/namespaces", { metadata: { name: namespace } });
  await api.post(`/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name: "default" } });
  const pods = 5;
  for (let i = 0; i < pods; i++) {
    await api.post(`/api/v1/namespaces/${namespace}/pods`, {
      metadata: { name: `p-${i}` },
      spec: {
        nodeName: "node-a",
        automountServiceAccountToken: false,
        containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }],
      },
    });
  }
  // Newer than every pod: the pods' watch cache stays behind this revision until a pod changes.
  await api.post(`/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: "later" } });

  const bindings = watchBindings(cluster, namespace, pods);
  const deadline = new AbortController();
  try {
    const seen = await Promise.race([
      bindings.times.then((times) => times.length),
      // A deadline for a hang, not a timing assertion: without one a stalled watch never answers.
      sleep(60_000, undefined, { signal: deadline.signal }).then(() => bindings.count()),
    ]);
    t.is(seen, pods);
  } finally {
    deadline.abort();
    bindings.stop();
  }
});
