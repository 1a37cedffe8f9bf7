/**
 * deploy/ against a real kube-apiserver (the throw-away control plane of test/e2e): it accepts every
 * object with strict field validation, compiles and type-checks the admission policies' CEL, and
 * enforces RBAC and the policies on real service-account tokens (node-bound for the agent), for
 * deploy/ as shipped and renamed by an overlay. The agent itself runs under them in
 * test/e2e/agent.e2e.test.ts.
 */
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { gatedSerial } from "../gate.js";
import { parse } from "yaml";
import { crdsEstablished, e2eGate, freePort, startCluster, waitFor, type Cluster } from "../e2e/cluster.js";
import { join } from "node:path";
import { containerCommand, podOf } from "../e2e/container-command.js";
import { spawnDaemon } from "../e2e/daemons.js";
import { extenderDeployment, flagValue } from "./leader-routing.js";
import { deployDir, kustomizeOverlay, renamedOverlay, repoRoot, type KubeObject } from "./render.js";

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

/**
 * A patch as the extender sends it (kubectl patch would GET first, which the extender may not): a merge
 * patch unless `contentType` says otherwise.
 */
async function patchAs(
  cluster: Cluster,
  kubeconfig: string,
  path: string,
  patch: object,
  contentType = "application/merge-patch+json",
): Promise<{ status: number; body: string }> {
  const token = (parse(await readFile(kubeconfig, "utf8")) as { users: Array<{ user: { token: string } }> }).users[0]!
    .user.token;
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.server}${path}`,
      {
        method: "PATCH",
        rejectUnauthorized: false,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": contentType },
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
}

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

for (const policy of [
  "nls-agent-node-restriction",
  "nls-agent-events",
  "nls-extender-pvc-annotation-only",
  "nls-extender-own-lease",
]) {
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
  const asExtender = (patch: object) =>
    patchAs(cluster, kubeconfig, "/api/v1/namespaces/app/persistentvolumeclaims/data", patch);

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

test("the extender's token creates its own leader-election Lease and no other Lease", async (t) => {
  const { cluster } = t.context;
  const kubeconfig = await cluster.serviceAccountKubeconfig("kube-system", "nls-extender");
  const lease = (name: string, namespace = "kube-system") =>
    JSON.stringify({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, namespace },
      spec: { holderIdentity: "nls-extender-0" },
    });
  const create = (name: string, namespace?: string) =>
    cluster.kubectl(["--kubeconfig", kubeconfig, "create", "-f", "-"], lease(name, namespace));
  // RBAC alone would let it: create on Leases cannot be narrowed by name.
  const scheduler = await waitFor("the Lease policy to deny", async () => {
    const r = await create("kube-scheduler");
    return r.exitCode !== 0 && /may only create/.test(r.stderr) ? r : undefined;
  });
  t.regex(
    scheduler.stderr,
    /may only create its leader-election Lease kube-system\/nls-extender, not kube-system\/kube-scheduler/,
  );
  t.regex((await create("kube-controller-manager-x")).stderr, /may only create its leader-election Lease/);
  t.not((await cluster.kubectl(["-n", "kube-system", "get", "lease", "kube-scheduler"])).exitCode, 0, "not created");
  const own = await create("nls-extender");
  t.is(own.exitCode, 0, own.stderr);
  // Its own Lease in the agents' namespace: RBAC refuses (it may only list and watch there).
  t.regex((await create("nls-extender", "nls-node-lease")).stderr, /forbidden/);
});

test("the extender's token points its Services' EndpointSlices at the leader, resourceVersion-checked, and touches no other slice", async (t) => {
  const { cluster } = t.context;
  const kubeconfig = await cluster.serviceAccountKubeconfig("kube-system", "nls-extender");
  const as = (args: string[]) => cluster.kubectl(["--kubeconfig", kubeconfig, "-n", "kube-system", ...args]);
  const slicePath = (name: string) => `/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/${name}`;
  const endpoint = (ip: string) => ({ addresses: [ip], conditions: { ready: true } });
  for (const name of ["nls-extender", "open-local-scheduler-extender"]) {
    const read = await as(["get", "endpointslice", name, "-o", "json"]);
    t.is(read.exitCode, 0, read.stderr);
    const { metadata } = JSON.parse(read.stdout) as { metadata: { resourceVersion: string } };
    const written = await patchAs(cluster, kubeconfig, slicePath(name), {
      metadata: { resourceVersion: metadata.resourceVersion },
      endpoints: [endpoint("10.0.0.7")],
    });
    t.is(written.status, 200, written.body);
    // A write decided on what it read before: refused, the slice keeps the newer address.
    const stale = await patchAs(cluster, kubeconfig, slicePath(name), {
      metadata: { resourceVersion: metadata.resourceVersion },
      endpoints: [endpoint("10.0.0.8")],
    });
    t.is(stale.status, 409, stale.body);
    t.regex(
      (await as(["get", "endpointslice", name, "-o", "jsonpath={.endpoints[*].addresses[*]}"])).stdout,
      /^10\.0\.0\.7$/,
    );
  }
  // Any other slice (kube-scheduler's Service, say): neither read, written, listed, created nor deleted.
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "other", namespace: "kube-system", labels: { "kubernetes.io/service-name": "other" } },
      addressType: "IPv4",
      endpoints: [],
    }),
  );
  t.is((await patchAs(cluster, kubeconfig, slicePath("other"), { endpoints: [endpoint("10.0.0.7")] })).status, 403);
  for (const verb of [
    "get endpointslices/other",
    "list endpointslices",
    "create endpointslices",
    "delete endpointslices/nls-extender",
    "update endpointslices/nls-extender",
  ]) {
    t.regex((await as(["auth", "can-i", ...verb.split(" ")])).stdout, /^no/, verb);
  }
});

test("the extender's token patches its own webhook configuration (resourceVersion-tested) and replaces its own Secret, no other", async (t) => {
  const { cluster } = t.context;
  const kubeconfig = await cluster.serviceAccountKubeconfig("kube-system", "nls-extender");
  const as = (args: string[]) => cluster.kubectl(["--kubeconfig", kubeconfig, ...args]);
  const path = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/nls-local-storage-request";
  const caBundle = Buffer.from("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n").toString("base64");
  const jsonPatchAs = (ops: object[]) => patchAs(cluster, kubeconfig, path, ops, "application/json-patch+json");
  const read = JSON.parse(
    (await as(["get", "mutatingwebhookconfiguration", "nls-local-storage-request", "-o", "json"])).stdout,
  ) as {
    metadata: { resourceVersion: string };
  };
  // What the extender writes: the caBundle, after a test of the resourceVersion it read.
  const written = await jsonPatchAs([
    { op: "test", path: "/metadata/resourceVersion", value: read.metadata.resourceVersion },
    { op: "add", path: "/webhooks/0/clientConfig/caBundle", value: caBundle },
  ]);
  t.is(written.status, 200, written.body);
  // The same on a stale resourceVersion: refused (the keeper reads this as a conflict).
  const stale = await jsonPatchAs([
    { op: "test", path: "/metadata/resourceVersion", value: read.metadata.resourceVersion },
    { op: "add", path: "/webhooks/0/clientConfig/caBundle", value: caBundle },
  ]);
  // 422 Invalid, with no detail: the keeper takes any 422 to its test-then-add patch for a conflict.
  t.is(stale.status, 422, stale.body);
  // Anything else of that configuration it may patch too: the API server runs no admission (webhook
  // or policy) on webhook configurations, so nothing but RBAC confines it (deploy/README.md, threat
  // model; components/webhook-certificate-files takes the right away).
  // Its Secret: read and replaced; no other Secret, no create, list or delete.
  t.is((await as(["-n", "kube-system", "get", "secret", "nls-extender-webhook-tls"])).exitCode, 0);
  for (const verb of [
    "get secrets/other",
    "list secrets",
    "create secrets",
    "delete secrets/nls-extender-webhook-tls",
    "patch secrets/nls-extender-webhook-tls",
    "delete mutatingwebhookconfigurations/nls-local-storage-request",
    "patch validatingwebhookconfigurations/anything",
    "patch mutatingwebhookconfigurations/other",
  ]) {
    t.regex((await as(["-n", "kube-system", "auth", "can-i", ...verb.split(" ")])).stdout, /^no/, verb);
  }
  t.regex(
    (await as(["-n", "kube-system", "auth", "can-i", "update", "secrets/nls-extender-webhook-tls"])).stdout,
    /^yes/,
  );
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

/** A new-style Event about a NodeLocalStorage, as the agent records it (cluster-scoped: kube-system). */
const eventAbout = (nlsName: string, kind = "NodeLocalStorage") => ({
  apiVersion: "v1",
  kind: "Event",
  metadata: { generateName: `${nlsName}.`, namespace: "kube-system" },
  involvedObject: { apiVersion: "csi.aliyun.com/v1alpha1", kind, name: nlsName },
  type: "Warning",
  reason: "InitRefused",
  message: "test",
  action: "InitVolumeGroup",
  eventTime: "2026-01-01T00:00:00.000000Z",
  reportingComponent: "nls-agent",
  reportingInstance: `nls-agent-${nlsName}`,
});

test("an agent's token records Events about its own NLS only, and rewrites none", async (t) => {
  const { cluster } = t.context;
  const bound = await cluster.serviceAccountKubeconfig("kube-system", "nls-agent", "node-1");
  const as = (args: string[], input?: string) => cluster.kubectl(["--kubeconfig", bound, ...args], input);
  const own = await as(["create", "-o", "name", "-f", "-"], JSON.stringify(eventAbout("node-1")));
  t.is(own.exitCode, 0, own.stderr);
  for (const [what, obj, message] of [
    ["about another node's NLS", eventAbout("node-2"), /may only record Events about NodeLocalStorage node-1/],
    ["about a Pod", eventAbout("node-1", "Pod"), /may only record Events about NodeLocalStorage node-1/],
  ] as const) {
    const denied = await as(["create", "-f", "-"], JSON.stringify(obj));
    t.not(denied.exitCode, 0, what);
    t.regex(denied.stderr, message, what);
  }
  // Someone else's Event, and its own: no update, patch or delete (RBAC), in either Events API.
  const theirs = (await cluster.kubectlOk(["create", "-o", "name", "-f", "-"], JSON.stringify(eventAbout("node-2"))))
    .trim()
    .replace(/^event\//, "");
  const mine = own.stdout.trim().replace(/^event\//, "");
  for (const name of [theirs, mine]) {
    for (const [resource, patch] of [
      ["events", '{"message":"rewritten"}'],
      ["events.events.k8s.io", '{"note":"rewritten"}'],
    ] as const) {
      const r = await as(["-n", "kube-system", "patch", resource, name, "--type=merge", "-p", patch]);
      t.regex(r.stderr, /forbidden/, `patch ${resource} ${name}`);
    }
    t.regex((await as(["-n", "kube-system", "delete", "event", name])).stderr, /forbidden/);
  }
  t.regex((await as(["auth", "can-i", "create", "events.events.k8s.io", "-n", "kube-system"])).stdout, /^no/);
});

test("a renamed install (namePrefix acme-) is confined by its own policies, which deny without their parameter", async (t) => {
  const { cluster } = t.context;
  // deploy/'s policies would also confine the renamed daemons (their bindings select every nls-agent
  // and nls-extender parameter): remove them so only the renamed install's policies are in force.
  for (const name of ["nls-agent-node-restriction", "nls-agent-events", "nls-extender-own-lease"]) {
    await cluster.kubectlOk(["delete", "validatingadmissionpolicybinding", name]);
  }
  const overlay = await kustomizeOverlay(renamedOverlay);
  const applied = await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: overlay.filter((o) => o.kind !== "CustomResourceDefinition"),
    }),
  );
  t.regex(
    applied,
    /validatingadmissionpolicybinding.admissionregistration.k8s.io\/acme-nls-agent-node-restriction created/,
  );
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "node-3" } }),
  );
  const bound = await cluster.serviceAccountKubeconfig("kube-system", "acme-nls-agent", "node-3");
  const as = (args: string[], obj: object) =>
    cluster.kubectl(["--kubeconfig", bound, ...args, "-f", "-"], JSON.stringify(obj));
  const nlsOf = (name: string) => ({
    apiVersion: "csi.aliyun.com/v1alpha1",
    kind: "NodeLocalStorage",
    metadata: { name },
    spec: { nodeName: name },
  });
  // Policies take effect shortly after they are created; dry runs pass admission without writing.
  await waitFor("the renamed policy to deny another node's NLS", async () => {
    const r = await as(["create", "--dry-run=server"], nlsOf("node-9"));
    return r.exitCode !== 0 && /may only write NodeLocalStorage node-3, not node-9/.test(r.stderr) ? true : undefined;
  });
  const own = await as(["create"], nlsOf("node-3"));
  t.is(own.exitCode, 0, own.stderr);
  const lease = (name: string) => ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: "nls-node-lease" },
    spec: { holderIdentity: "node-3" },
  });
  t.is((await as(["create"], lease("nls-agent-node-3"))).exitCode, 0);
  t.regex((await as(["create"], lease("nls-agent-node-4"))).stderr, /may only write Lease nls-agent-node-3/);
  await waitFor("the renamed Events policy", async () => {
    const r = await as(["create", "--dry-run=server"], eventAbout("node-4"));
    return /may only record Events about NodeLocalStorage node-3/.test(r.stderr) ? true : undefined;
  });

  // The renamed extender is held to its annotation too.
  const extender = await cluster.serviceAccountKubeconfig("kube-system", "acme-nls-extender");
  const pvcPath = "/api/v1/namespaces/app/persistentvolumeclaims/data";
  await waitFor("the renamed extender policy", async () => {
    const r = await patchAs(cluster, extender, `${pvcPath}?dryRun=All`, { metadata: { labels: { x: "y" } } });
    return r.status === 403 && /labels, finalizers or owners/.test(r.body) ? true : undefined;
  });
  const annotated = await patchAs(cluster, extender, pvcPath, {
    metadata: { annotations: { "nls.csi.aliyun.com/allocation": '{"vgName":"pool-1"}' } },
  });
  t.is(annotated.status, 200, annotated.body);
  // …and to its own leader-election Lease.
  let lastAnswer = "";
  await waitFor("the renamed extender's Lease policy", async () => {
    const r = await cluster.kubectl(
      ["--kubeconfig", extender, "create", "--dry-run=server", "-f", "-"],
      JSON.stringify({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "kube-scheduler", namespace: "kube-system" },
        spec: { holderIdentity: "x" },
      }),
    );
    lastAnswer = r.stderr || r.stdout;
    return /may only create its leader-election Lease kube-system\/acme-nls-extender, not kube-system\/kube-scheduler/.test(
      r.stderr,
    )
      ? true
      : undefined;
  }).catch((e: Error) => {
    throw new Error(`${e.message}; last answer: ${lastAnswer}`);
  });

  // Without its parameter the node restriction denies the agent even its own node's objects, while
  // the control plane's Leases in kube-system stay out of its reach. (The bindings find parameters by
  // label, so deploy/'s own parameter would stand in for the renamed one: remove both.)
  await cluster.kubectlOk(["-n", "kube-system", "delete", "configmap", "acme-nls-agent", "nls-agent"]);
  await waitFor("a denial for the missing parameter", async () => {
    const r = await as(["create", "--dry-run=server"], lease("nls-agent-node-3"));
    return /no params found/.test(r.stderr) ? true : undefined;
  });
  const leader = {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "kube-controller-manager", namespace: "kube-system" },
    spec: { holderIdentity: "cm" },
  };
  await cluster.kubectlOk(["create", "-f", "-"], JSON.stringify(leader));
  await cluster.kubectlOk(["replace", "-f", "-"], JSON.stringify({ ...leader, spec: { holderIdentity: "cm-2" } }));
});

test("the renamed install's extender, run as its pod would run, leads on its own Lease and routes both renamed Services to itself", async (t) => {
  const { cluster } = t.context;
  // The acme- overlay is applied (test above). Its Deployment's pod: args and env as the kubelet expands
  // them, a token of its ServiceAccount, nothing but that install's RBAC and admission policies.
  const overlay = await kustomizeOverlay(renamedOverlay);
  const ip = "10.88.0.5";
  const pod = podOf(extenderDeployment(overlay) as never, "acme-nls-extender-5c7d9-x2k4q", "node-3");
  const { args, env } = containerCommand(pod, ip);
  const slices = flagValue(args, "leader-endpoint-slices")?.split(",");
  t.deepEqual(slices, ["acme-nls-extender", "acme-open-local-scheduler-extender"]);
  t.is(pod.spec.serviceAccountName, "acme-nls-extender");
  const port = await freePort();
  const log: string[] = [];
  const extender = spawnDaemon(
    cluster,
    "acme-nls-extender",
    [
      join(repoRoot, "packages/extender/dist/cli.js"),
      ...args.map((a) => (a.startsWith("--port=") ? `--port=${port}` : a)),
      `--kubeconfig=${await cluster.serviceAccountKubeconfig("kube-system", pod.spec.serviceAccountName!)}`,
      `--debug-address=127.0.0.1:${await freePort()}`,
      "--shutdown-delay=0",
    ],
    env,
    log,
  );
  const sliceOf = async (name: string) =>
    JSON.parse(await cluster.kubectlOk(["-n", "kube-system", "get", "endpointslice", name, "-o", "json"])) as {
      metadata: { labels: Record<string, string> };
      endpoints?: Array<{ addresses: string[]; targetRef?: { name: string }; nodeName?: string }>;
    };
  try {
    await waitFor("the renamed extender to lead and serve through its renamed slices", async () => {
      const r = await fetch(`http://127.0.0.1:${port}/readyz?verbose`).catch(() => undefined);
      return r?.ok && (await r.text()).includes("[+]role ok: leader\n") ? true : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; its log:\n${log.slice(-20).join("\n")}`);
    });
    for (const name of slices ?? []) {
      const slice = await sliceOf(name);
      t.is(slice.metadata.labels["kubernetes.io/service-name"], name, `${name} belongs to the renamed Service`);
      t.like(slice.endpoints, [{ addresses: [ip], targetRef: { name: pod.metadata.name }, nodeName: "node-3" }], name);
    }
    const lease = JSON.parse(
      await cluster.kubectlOk(["-n", "kube-system", "get", "lease", "acme-nls-extender", "-o", "json"]),
    ) as { spec: { holderIdentity: string } };
    t.true(lease.spec.holderIdentity.startsWith(pod.metadata.name), lease.spec.holderIdentity);
    // deploy/'s own slices, which this install's Role does not name, keep what an earlier test wrote.
    t.like((await sliceOf("nls-extender")).endpoints, [{ addresses: ["10.0.0.7"] }]);
    t.false(
      log.some((l) => /not read or written|cannot be written|forbidden/i.test(l)),
      log.filter((l) => /error|warn/i.test(l)).join("\n"),
    );
  } finally {
    await extender.stop();
  }
});

test("re-applying the slices empties the leader's endpoints until its next write; they cannot ship without the field", async (t) => {
  const { cluster } = t.context;
  // The renamed extender (test above) wrote its address and has stopped: nothing writes the slices now.
  const overlay = (await kustomizeOverlay(renamedOverlay)).filter((o) => o.kind !== "CustomResourceDefinition");
  const list = (items: object[]) => JSON.stringify({ apiVersion: "v1", kind: "List", items });
  const addressesOf = async (name: string) =>
    (
      await cluster.kubectlOk([
        "-n",
        "kube-system",
        "get",
        "endpointslice",
        name,
        "-o",
        "jsonpath={.endpoints[*].addresses[*]}",
      ])
    ).trim();
  t.is(await addressesOf("acme-nls-extender"), "10.88.0.5");

  // Server-side: the shipped `endpoints: []` conflicts with the leader's write; nothing changes.
  const ssa = ["apply", "--server-side", "--field-manager=operator", "-f", "-"];
  const conflict = await cluster.kubectl(ssa, list(overlay));
  t.not(conflict.exitCode, 0);
  t.regex(conflict.stderr, /conflict with "[^"]+" using discovery\.k8s\.io\/v1: \.endpoints/);
  t.is(await addressesOf("acme-nls-extender"), "10.88.0.5", "a refused apply changes nothing");
  // --force-conflicts takes the field over and empties it (the leader writes itself back within a retry period).
  await cluster.kubectlOk([...ssa, "--force-conflicts"], list(overlay));
  t.is(await addressesOf("acme-nls-extender"), "");

  // Client-side: the leader's write, then a re-apply writes the shipped empty list back.
  const extender = await cluster.serviceAccountKubeconfig("kube-system", "acme-nls-extender");
  const written = await patchAs(
    cluster,
    extender,
    "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/acme-nls-extender",
    { endpoints: [{ addresses: ["10.88.0.5"], conditions: { ready: true } }] },
  );
  t.is(written.status, 200, written.body);
  await cluster.kubectlOk(["apply", "-f", "-"], list(overlay));
  t.is(await addressesOf("acme-nls-extender"), "");

  // Why the slices ship `endpoints: []` rather than leaving the field to the leader: the API server would
  // take a slice without it, but the schema marks it required and kubectl validates a List against the
  // schema before sending it, in every apply mode (Helm validates its manifests the same way).
  const without = overlay.map((o) => {
    if (o.kind !== "EndpointSlice") return o;
    const { endpoints: _endpoints, ...rest } = o as KubeObject & { endpoints?: unknown };
    return rest;
  });
  for (const args of [["apply"], ["apply", "--server-side"]]) {
    const refused = await cluster.kubectl([...args, "-f", "-"], list(without));
    t.not(refused.exitCode, 0, args.join(" "));
    t.regex(refused.stderr, /missing required field "endpoints" in io\.k8s\.api\.discovery\.v1\.EndpointSlice/);
  }
});
