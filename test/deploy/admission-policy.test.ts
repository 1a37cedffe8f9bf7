import { ANNOTATION_NLS_ALLOCATION } from "@nls/api";
import { find, kustomize } from "./render.js";
import { admit, type AdmissionInput, type AdmissionRequest, type PolicySpec } from "./admission.js";
import { hasKubectl, testWithTool } from "./tools.js";

const test = testWithTool(hasKubectl);
const NODE_CLAIM = "authentication.kubernetes.io/node-name";
const EXTENDER_POLICY = "nls-extender-pvc-annotation-only";

async function policy(name = "nls-agent-node-restriction"): Promise<PolicySpec> {
  return (find(await kustomize(), "ValidatingAdmissionPolicy", name) as unknown as { spec: PolicySpec }).spec;
}

const agentOn = (node: string | undefined, namespace = "kube-system"): AdmissionRequest["userInfo"] => ({
  username: `system:serviceaccount:${namespace}:nls-agent`,
  groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
  extra: node === undefined ? {} : { [NODE_CLAIM]: [node] },
});

const nls = (name: string, nodeName = name) => ({
  apiVersion: "csi.aliyun.com/v1alpha1",
  kind: "NodeLocalStorage",
  metadata: { name },
  spec: { nodeName },
});
const lease = (name: string) => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name, namespace: "kube-system" },
  spec: { holderIdentity: "x" },
});

function nlsRequest(
  userInfo: AdmissionRequest["userInfo"],
  operation: AdmissionRequest["operation"],
  obj: ReturnType<typeof nls>,
  subResource?: string,
): AdmissionInput {
  return {
    request: {
      operation,
      resource: { group: "csi.aliyun.com", version: "v1alpha1", resource: "nodelocalstorages" },
      ...(subResource ? { subResource } : {}),
      name: obj.metadata.name,
      userInfo,
    },
    object: operation === "DELETE" ? null : obj,
    oldObject: operation === "CREATE" ? null : obj,
  };
}

function leaseRequest(userInfo: AdmissionRequest["userInfo"], operation: AdmissionRequest["operation"], name: string) {
  return {
    request: {
      operation,
      resource: { group: "coordination.k8s.io", version: "v1", resource: "leases" },
      name,
      namespace: "kube-system",
      userInfo,
    },
    object: operation === "DELETE" ? null : lease(name),
    oldObject: operation === "CREATE" ? null : lease(name),
  } satisfies AdmissionInput;
}

const cases: Array<[string, AdmissionInput, "allowed" | "denied" | "not matched", RegExp?]> = [
  ["agent creates its own NLS", nlsRequest(agentOn("node-1"), "CREATE", nls("node-1")), "allowed"],
  ["agent writes its own NLS status", nlsRequest(agentOn("node-1"), "UPDATE", nls("node-1"), "status"), "allowed"],
  [
    "agent writes another node's NLS status",
    nlsRequest(agentOn("node-1"), "UPDATE", nls("node-2"), "status"),
    "denied",
    /node node-1 may only write NodeLocalStorage node-1, not node-2/,
  ],
  [
    "agent creates another node's NLS",
    nlsRequest(agentOn("node-1"), "CREATE", nls("node-2")),
    "denied",
    /may only write NodeLocalStorage node-1, not node-2/,
  ],
  [
    "agent creates its NLS naming another node in spec",
    nlsRequest(agentOn("node-1"), "CREATE", nls("node-1", "node-2")),
    "denied",
    /may not create a NodeLocalStorage for node node-2/,
  ],
  ["agent deletes another node's NLS", nlsRequest(agentOn("node-1"), "DELETE", nls("node-2")), "denied", /not node-2/],
  [
    "agent without the node claim (token not node-bound)",
    nlsRequest(agentOn(undefined), "UPDATE", nls("node-1"), "status"),
    "denied",
    /node-bound service-account token/,
  ],
  [
    "agent in another namespace is confined too",
    nlsRequest(agentOn("node-1", "storage"), "UPDATE", nls("node-2"), "status"),
    "denied",
    /not node-2/,
  ],
  ["agent renews its own Lease", leaseRequest(agentOn("node-1"), "UPDATE", "nls-agent-node-1"), "allowed"],
  ["agent creates its own Lease", leaseRequest(agentOn("node-1"), "CREATE", "nls-agent-node-1"), "allowed"],
  [
    "agent takes over kube-scheduler's leader lease",
    leaseRequest(agentOn("node-1"), "UPDATE", "kube-scheduler"),
    "denied",
    /may only write Lease nls-agent-node-1, not kube-scheduler/,
  ],
  [
    "agent renews another node's Lease",
    leaseRequest(agentOn("node-1"), "UPDATE", "nls-agent-node-2"),
    "denied",
    /not nls-agent-node-2/,
  ],
  [
    "an administrator edits any NLS",
    nlsRequest({ username: "kubernetes-admin", groups: ["system:masters"], extra: {} }, "UPDATE", nls("node-2")),
    "not matched",
  ],
  [
    "a service account merely named like the agent",
    nlsRequest(
      { ...agentOn("node-1"), username: "system:serviceaccount:kube-system:nls-agent-tools" },
      "UPDATE",
      nls("node-2"),
    ),
    "not matched",
  ],
  [
    "the agent reading Pods is out of scope",
    {
      request: {
        operation: "UPDATE",
        resource: { group: "", version: "v1", resource: "pods" },
        name: "p",
        userInfo: agentOn("node-1"),
      },
      object: {},
      oldObject: {},
    },
    "not matched",
  ],
];

for (const [name, input, want, message] of cases) {
  test(`admission policy: ${name} → ${want}`, async (t) => {
    const verdict = admit(await policy(), input);
    if (want === "not matched") return t.false(verdict.matched);
    t.true(verdict.matched);
    if (!verdict.matched) return;
    t.is(verdict.allowed, want === "allowed", verdict.messages.join("; "));
    if (message) t.regex(verdict.messages.join("; "), message);
  });
}

for (const name of ["nls-agent-node-restriction", EXTENDER_POLICY]) {
  test(`${name} is bound, denies, and fails closed`, async (t) => {
    const binding = find(await kustomize(), "ValidatingAdmissionPolicyBinding", name) as unknown as {
      spec: { policyName: string; validationActions: string[] };
    };
    t.deepEqual(binding.spec, { policyName: name, validationActions: ["Deny"] });
    t.is((await policy(name)).failurePolicy, "Fail");
  });
}

// ---- the extender: PVC writes limited to its allocation annotation ----

const extender = { username: "system:serviceaccount:kube-system:nls-extender", extra: {} };

const pvc = (annotations?: Record<string, string>, patch: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name: "data", namespace: "app", ...(annotations ? { annotations } : {}), ...patch },
  spec: { storageClassName: "open-local-lvm", resources: { requests: { storage: "10Gi" } } },
});

function pvcUpdate(userInfo: AdmissionRequest["userInfo"], before: object, after: object): AdmissionInput {
  return {
    request: {
      operation: "UPDATE",
      resource: { group: "", version: "v1", resource: "persistentvolumeclaims" },
      name: "data",
      namespace: "app",
      userInfo,
    },
    object: after,
    oldObject: before,
  };
}

const selected = { "volume.kubernetes.io/selected-node": "node-1" };
const alloc = { [ANNOTATION_NLS_ALLOCATION]: '{"node":"node-1","vgName":"pool-0"}' };
const extenderCases: Array<[string, AdmissionInput, "allowed" | "denied" | "not matched", RegExp?]> = [
  ["adds its annotation to a PVC without any", pvcUpdate(extender, pvc(), pvc(alloc)), "allowed"],
  ["adds its annotation next to others", pvcUpdate(extender, pvc(selected), pvc({ ...selected, ...alloc })), "allowed"],
  [
    "rewrites its annotation",
    pvcUpdate(extender, pvc(alloc), pvc({ [ANNOTATION_NLS_ALLOCATION]: '{"node":"node-2"}' })),
    "allowed",
  ],
  ["removes its annotation", pvcUpdate(extender, pvc({ ...selected, ...alloc }), pvc(selected)), "allowed"],
  [
    "changes another annotation",
    pvcUpdate(extender, pvc(selected), pvc({ "volume.kubernetes.io/selected-node": "node-2", ...alloc })),
    "denied",
    /may only write the annotation nls.csi.aliyun.com\/allocation/,
  ],
  [
    "removes another annotation",
    pvcUpdate(extender, pvc(selected), pvc(alloc)),
    "denied",
    /may only write the annotation/,
  ],
  [
    "resizes the claim",
    pvcUpdate(extender, pvc(), {
      ...pvc(alloc),
      spec: { storageClassName: "open-local-lvm", resources: { requests: { storage: "1Ti" } } },
    }),
    "denied",
    /may not change a PVC's spec/,
  ],
  [
    "adds a finalizer",
    pvcUpdate(extender, pvc(), pvc(alloc, { finalizers: ["x/y"] })),
    "denied",
    /labels, finalizers or owners/,
  ],
  ["adds a label", pvcUpdate(extender, pvc(), pvc(alloc, { labels: { a: "b" } })), "denied", /labels/],
  [
    "a user edits the claim freely",
    pvcUpdate({ username: "alice", extra: {} }, pvc(), pvc(selected, { labels: { a: "b" } })),
    "not matched",
  ],
];

for (const [name, input, want, message] of extenderCases) {
  test(`extender admission policy: ${name} → ${want}`, async (t) => {
    const verdict = admit(await policy(EXTENDER_POLICY), input);
    if (want === "not matched") return t.false(verdict.matched);
    t.true(verdict.matched);
    if (!verdict.matched) return;
    t.is(verdict.allowed, want === "allowed", verdict.messages.join("; "));
    if (message) t.regex(verdict.messages.join("; "), message);
  });
}

test("the extender policy guards the annotation the extender writes (@nls/api)", async (t) => {
  const key = (await policy(EXTENDER_POLICY)).variables?.find((v) => v.name === "key")?.expression;
  t.is(key, `'${ANNOTATION_NLS_ALLOCATION}'`);
});
