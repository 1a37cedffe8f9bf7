/**
 * deploy/ against a real kube-apiserver (the throw-away control plane of test/e2e): it accepts every
 * object with strict field validation, compiles and type-checks the admission policies' CEL, and
 * enforces the extender's policy on a real service-account token. The agent's RBAC and policy are
 * exercised by the agent itself in test/e2e/agent.e2e.test.ts.
 */
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { gatedSerial } from "../gate.js";
import { parse } from "yaml";
import { crdsEstablished, e2eGate, startCluster, waitFor, type Cluster } from "../e2e/cluster.js";
import { deployDir } from "./render.js";

const gate = await e2eGate();
const test = gatedSerial<{ cluster: Cluster }>(gate.run);
if (!gate.run) console.log(`# deploy apiserver tests skipped: ${gate.why}`);

test.before(async (t) => {
  if (!gate.run) return;
  t.context.cluster = await startCluster();
  // Type-checks the policies' CEL and writes the result to their status.
  // and binds PVs to claims, so a claim can be bound (only a bound claim may be resized).
  await t.context.cluster.startControllerManager(
    "validatingadmissionpolicy-status-controller,persistentvolume-binder-controller",
  );
});
test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

test("the API server accepts deploy/ (strict field validation), then deploy/samples/", async (t) => {
  const { cluster } = t.context;
  // Not a server dry run first: that cannot create objects in the Namespace deploy/ creates.
  const applied = await cluster.kubectlOk(["apply", "--validate=strict", "-k", deployDir]);
  t.regex(applied, /namespace\/nls-node-lease created/);
  t.regex(applied, /daemonset\.apps\/nls-agent created/);
  // Wait until deploy/'s CRDs are served: the samples include an init config.
  await crdsEstablished(cluster);
  const samples = await cluster.kubectlOk(["apply", "--validate=strict", "-k", `${deployDir}samples`]);
  t.regex(samples, /storageclass\.storage\.k8s\.io\/open-local-lvm created/);
  t.regex(samples, /nodelocalstorageinitconfig\.csi\.aliyun\.com\/open-local created/);
});

for (const policy of ["nls-agent-node-restriction", "nls-extender-pvc-annotation-only"]) {
  test(`${policy}: the API server type-checks its CEL without a warning`, async (t) => {
    const { cluster } = t.context;
    const status = await waitFor(`type checking of ${policy}`, async () => {
      const vap = JSON.parse(await cluster.kubectlOk(["get", "validatingadmissionpolicy", policy, "-o", "json"])) as {
        metadata: { generation: number };
        status?: { observedGeneration?: number; typeChecking?: { expressionWarnings?: unknown[] } };
      };
      return vap.status?.observedGeneration === vap.metadata.generation ? vap.status : undefined;
    });
    t.deepEqual(status.typeChecking?.expressionWarnings ?? [], []);
  });
}

test("the extender may write its allocation annotation on a PVC, and nothing else", async (t) => {
  const { cluster } = t.context;
  await cluster.kubectlOk(["create", "namespace", "app"]);
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name: "pv-data" },
          spec: {
            capacity: { storage: "10Gi" },
            accessModes: ["ReadWriteOnce"],
            storageClassName: "open-local-lvm",
            claimRef: { namespace: "app", name: "data" },
            csi: { driver: "local.csi.aliyun.com", volumeHandle: "pv-data" },
          },
        },
        {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: {
            name: "data",
            namespace: "app",
            annotations: { "volume.kubernetes.io/selected-node": "node-1" },
          },
          spec: {
            storageClassName: "open-local-lvm",
            volumeName: "pv-data",
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: "10Gi" } },
          },
        },
      ],
    }),
  );
  await waitFor("the claim to be bound", async () =>
    (await cluster.kubectlOk(["-n", "app", "get", "pvc", "data", "-o", "jsonpath={.status.phase}"])) === "Bound"
      ? true
      : undefined,
  );
  const kubeconfig = await cluster.serviceAccountKubeconfig("kube-system", "nls-extender");
  const token = (parse(await readFile(kubeconfig, "utf8")) as { users: Array<{ user: { token: string } }> }).users[0]!
    .user.token;
  // A merge patch as the extender sends it (kubectl patch would GET first, which the extender may not).
  const asExtender = (patch: object) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${cluster.server}/api/v1/namespaces/app/persistentvolumeclaims/data`,
        {
          method: "PATCH",
          rejectUnauthorized: false,
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/merge-patch+json" },
        },
        (res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(patch));
    });

  const ok = await asExtender({
    metadata: { annotations: { "nls.csi.aliyun.com/allocation": '{"vgName":"pool-0"}' } },
  });
  t.is(ok.status, 200, ok.body);
  for (const [what, patch, message] of [
    [
      "another annotation",
      { metadata: { annotations: { "volume.kubernetes.io/selected-node": "node-2" } } },
      /may only write the annotation/,
    ],
    ["a label", { metadata: { labels: { stolen: "yes" } } }, /labels, finalizers or owners/],
    ["a finalizer", { metadata: { finalizers: ["example.com/hold"] } }, /labels, finalizers or owners/],
    ["the size", { spec: { resources: { requests: { storage: "20Gi" } } } }, /may not change a PVC's spec/],
  ] as const) {
    const denied = await asExtender(patch);
    t.is(denied.status, 403, what);
    t.regex(denied.body, message, what);
  }
  const pvc = JSON.parse(await cluster.kubectlOk(["-n", "app", "get", "pvc", "data", "-o", "json"])) as {
    metadata: { annotations: Record<string, string>; labels?: object; finalizers?: string[] };
  };
  t.is(pvc.metadata.annotations["volume.kubernetes.io/selected-node"], "node-1");
  t.is(pvc.metadata.annotations["nls.csi.aliyun.com/allocation"], '{"vgName":"pool-0"}');
  t.is(pvc.metadata.labels, undefined);
  t.false(pvc.metadata.finalizers?.includes("example.com/hold") ?? false);
  // RBAC: the extender cannot delete what it may only annotate.
  const del = await cluster.kubectl(["--kubeconfig", kubeconfig, "-n", "app", "delete", "pvc", "data"]);
  t.regex(del.stderr, /forbidden/);
});

test("an agent's node-bound token writes its own node's NLS and Lease, and no other", async (t) => {
  const { cluster } = t.context;
  for (const node of ["node-1", "node-2"]) {
    await cluster.kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: node } }),
    );
  }
  const leaseOf = (name: string, namespace = "nls-node-lease") => ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace },
    spec: { holderIdentity: "node-1", leaseDurationSeconds: 40 },
  });
  await cluster.kubectlOk(["create", "-f", "-"], JSON.stringify(leaseOf("kube-scheduler", "kube-system")));
  const nlsOf = (name: string, nodeName = name) => ({
    apiVersion: "csi.aliyun.com/v1alpha1",
    kind: "NodeLocalStorage",
    metadata: { name },
    spec: { nodeName },
  });
  const bound = await cluster.serviceAccountKubeconfig("kube-system", "nls-agent", "node-1");
  const unbound = await cluster.serviceAccountKubeconfig("kube-system", "nls-agent");
  const as = (kubeconfig: string, verb: "create" | "replace", obj: object) =>
    cluster.kubectl(["--kubeconfig", kubeconfig, verb, "-f", "-"], JSON.stringify(obj));

  const own = await as(bound, "create", nlsOf("node-1"));
  t.is(own.exitCode, 0, own.stderr);
  const ownLease = await as(bound, "create", leaseOf("nls-agent-node-1"));
  t.is(ownLease.exitCode, 0, ownLease.stderr);
  for (const [what, kubeconfig, verb, obj, message] of [
    ["another node's NLS", bound, "create", nlsOf("node-2"), /may only write NodeLocalStorage node-1, not node-2/],
    [
      "its NLS naming another node",
      bound,
      "create",
      nlsOf("node-1", "node-2"),
      /may not create a NodeLocalStorage for node node-2/,
    ],
    // RBAC: no Lease rights in kube-system at all.
    ["kube-scheduler's lease", bound, "replace", leaseOf("kube-scheduler", "kube-system"), /forbidden/],
    ["a new kube-system lease", bound, "create", leaseOf("nls-agent-node-1", "kube-system"), /forbidden/],
    ["another agent's lease", bound, "create", leaseOf("nls-agent-node-2"), /not nls-agent-node-2/],
    ["its own NLS with a token not bound to a node", unbound, "create", nlsOf("node-2"), /node-bound/],
  ] as const) {
    const denied = await as(kubeconfig, verb, obj);
    t.not(denied.exitCode, 0, what);
    t.regex(denied.stderr, message, what);
  }
  t.is((await cluster.kubectl(["get", "nls", "node-2"])).exitCode, 1);
  // RBAC alone: no spec edits, no deletes.
  const del = await cluster.kubectl(["--kubeconfig", bound, "delete", "nls", "node-1"]);
  t.regex(del.stderr, /forbidden/);
});
