import { readFileSync } from "node:fs";
import { ANNOTATION_NLS_ALLOCATION } from "@nls/api";
import { parse } from "yaml";
import { find, kustomize, kustomizeOverlay, renamedOverlay, repoRoot } from "./render.js";
import { leaderLease } from "./leader-routing.js";
import {
  admitBound,
  type AdmissionInput,
  type AdmissionRequest,
  type BindingSpec,
  type PolicySpec,
  type Verdict,
} from "./admission.js";
import { hasKubectl, testWithTool } from "./tools.js";
import { CA_BUNDLE_POLICY, caBundleComparison, keepsWebhookField } from "./ca-bundle-policy.js";

const test = testWithTool(hasKubectl);
const NODE_CLAIM = "authentication.kubernetes.io/node-name";
const AGENT_POLICY = "nls-agent-node-restriction";
const EVENTS_POLICY = "nls-agent-events";
const EXTENDER_POLICY = "nls-extender-pvc-annotation-only";
const EXTENDER_LEASE_POLICY = "nls-extender-own-lease";
const LEASE_NS_LABELS = { "kubernetes.io/metadata.name": "nls-node-lease", "nls.csi.aliyun.com/agent-leases": "true" };
const KUBE_SYSTEM_LABELS = { "kubernetes.io/metadata.name": "kube-system" };

/** deploy/ as rendered (`""`) or through an operator's renaming overlay. */
const installs = {
  "deploy/": () => kustomize(),
  "deploy/ with namePrefix acme-": () => kustomizeOverlay(renamedOverlay),
};
type Install = keyof typeof installs;
const prefixOf = (install: Install) => (install === "deploy/" ? "" : "acme-");

/** The verdict of the named policy, renamed as `install` renames it, through its binding and parameter. */
async function verdict(install: Install, base: string, input: AdmissionInput): Promise<Verdict> {
  const objects = await installs[install]();
  const name = `${prefixOf(install)}${base}`;
  const policy = (find(objects, "ValidatingAdmissionPolicy", name) as unknown as { spec: PolicySpec }).spec;
  const binding = objects.find(
    (o) =>
      o.kind === "ValidatingAdmissionPolicyBinding" && (o as unknown as { spec: BindingSpec }).spec.policyName === name,
  ) as unknown as { spec: BindingSpec } | undefined;
  if (!binding) throw new Error(`no binding of ${name}`);
  return admitBound(policy, binding.spec, objects as never, input);
}

async function policy(name = AGENT_POLICY): Promise<PolicySpec> {
  return (find(await kustomize(), "ValidatingAdmissionPolicy", name) as unknown as { spec: PolicySpec }).spec;
}

const agentOn = (
  node: string | undefined,
  serviceAccount = "nls-agent",
  namespace = "kube-system",
): AdmissionRequest["userInfo"] => ({
  username: `system:serviceaccount:${namespace}:${serviceAccount}`,
  groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
  extra: node === undefined ? {} : { [NODE_CLAIM]: [node] },
});

const nls = (name: string, nodeName = name) => ({
  apiVersion: "csi.aliyun.com/v1alpha1",
  kind: "NodeLocalStorage",
  metadata: { name },
  spec: { nodeName },
});
const lease = (name: string, namespace: string) => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name, namespace },
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

function leaseRequest(
  userInfo: AdmissionRequest["userInfo"],
  operation: AdmissionRequest["operation"],
  name: string,
  namespace = "nls-node-lease",
  namespaceLabels: Record<string, string> = LEASE_NS_LABELS,
) {
  return {
    request: {
      operation,
      resource: { group: "coordination.k8s.io", version: "v1", resource: "leases" },
      name,
      namespace,
      namespaceLabels,
      userInfo,
    },
    object: operation === "DELETE" ? null : lease(name, namespace),
    oldObject: operation === "CREATE" ? null : lease(name, namespace),
  } satisfies AdmissionInput;
}

const event = (involvedName: string, kind = "NodeLocalStorage") => ({
  apiVersion: "v1",
  kind: "Event",
  metadata: { name: `${involvedName}.1`, namespace: "kube-system" },
  involvedObject: { apiVersion: "csi.aliyun.com/v1alpha1", kind, name: involvedName },
  reason: "InitRefused",
});

function eventRequest(
  userInfo: AdmissionRequest["userInfo"],
  operation: AdmissionRequest["operation"],
  obj: ReturnType<typeof event>,
  namespaceLabels: Record<string, string> = KUBE_SYSTEM_LABELS,
): AdmissionInput {
  return {
    request: {
      operation,
      resource: { group: "", version: "v1", resource: "events" },
      name: obj.metadata.name,
      namespace: namespaceLabels["kubernetes.io/metadata.name"],
      namespaceLabels,
      userInfo,
    },
    object: operation === "DELETE" ? null : obj,
    oldObject: operation === "CREATE" ? null : obj,
  };
}

type Want = "allowed" | "denied" | "not matched";
/** A case for the agent's policies, given the agent's ServiceAccount name in the install. */
type AgentCase = [string, string, (sa: string) => AdmissionInput, Want, RegExp?];
/** A case for the extender's policies, given the extender's ServiceAccount name in the install. */
type ExtenderCase = [string, (sa: string) => AdmissionInput, Want, RegExp?];

const admin = { username: "kubernetes-admin", groups: ["system:masters"], extra: {} };
const cases: AgentCase[] = [
  [
    "agent creates its own NLS",
    AGENT_POLICY,
    (sa) => nlsRequest(agentOn("node-1", sa), "CREATE", nls("node-1")),
    "allowed",
  ],
  [
    "agent writes its own NLS status",
    AGENT_POLICY,
    (sa) => nlsRequest(agentOn("node-1", sa), "UPDATE", nls("node-1"), "status"),
    "allowed",
  ],
  [
    "agent writes another node's NLS status",
    AGENT_POLICY,
    (sa) => nlsRequest(agentOn("node-1", sa), "UPDATE", nls("node-2"), "status"),
    "denied",
    /node node-1 may only write NodeLocalStorage node-1, not node-2/,
  ],
  [
    "agent creates another node's NLS",
    AGENT_POLICY,
    (sa) => nlsRequest(agentOn("node-1", sa), "CREATE", nls("node-2")),
    "denied",
    /may only write NodeLocalStorage node-1, not node-2/,
  ],
  [
    "agent creates its NLS naming another node in spec",
    AGENT_POLICY,
    (sa) => nlsRequest(agentOn("node-1", sa), "CREATE", nls("node-1", "node-2")),
    "denied",
    /may not create a NodeLocalStorage for node node-2/,
  ],
  [
    "agent deletes another node's NLS",
    AGENT_POLICY,
    (sa) => nlsRequest(agentOn("node-1", sa), "DELETE", nls("node-2")),
    "denied",
    /not node-2/,
  ],
  [
    "agent without the node claim (token not node-bound)",
    AGENT_POLICY,
    (sa) => nlsRequest(agentOn(undefined, sa), "UPDATE", nls("node-1"), "status"),
    "denied",
    /node-bound service-account token/,
  ],
  [
    "agent renews its own Lease",
    AGENT_POLICY,
    (sa) => leaseRequest(agentOn("node-1", sa), "UPDATE", "nls-agent-node-1"),
    "allowed",
  ],
  [
    "agent creates its own Lease",
    AGENT_POLICY,
    (sa) => leaseRequest(agentOn("node-1", sa), "CREATE", "nls-agent-node-1"),
    "allowed",
  ],
  [
    "agent renews another node's Lease",
    AGENT_POLICY,
    (sa) => leaseRequest(agentOn("node-1", sa), "UPDATE", "nls-agent-node-2"),
    "denied",
    /may only write Lease nls-agent-node-1, not nls-agent-node-2/,
  ],
  [
    "agent creates another Lease in the agents' namespace",
    AGENT_POLICY,
    (sa) => leaseRequest(agentOn("node-1", sa), "CREATE", "kube-scheduler"),
    "denied",
    /not kube-scheduler/,
  ],
  // kube-system's Leases are out of the agent's reach by RBAC; the policy (whose missing parameter
  // denies what it matches) must never stand in the way of the control plane's leader election there.
  [
    "kube-scheduler renews its leader Lease in kube-system",
    AGENT_POLICY,
    () => leaseRequest(admin, "UPDATE", "kube-scheduler", "kube-system", KUBE_SYSTEM_LABELS),
    "not matched",
  ],
  ["an administrator edits any NLS", AGENT_POLICY, () => nlsRequest(admin, "UPDATE", nls("node-2")), "not matched"],
  [
    "a service account merely named like the agent",
    AGENT_POLICY,
    (sa) => nlsRequest(agentOn("node-1", `${sa}-tools`), "UPDATE", nls("node-2")),
    "not matched",
  ],
  [
    "the agent's name in another namespace",
    AGENT_POLICY,
    (sa) => nlsRequest(agentOn("node-1", sa, "storage"), "UPDATE", nls("node-2")),
    "not matched",
  ],
  [
    "the agent reading Pods is out of scope",
    AGENT_POLICY,
    (sa) => ({
      request: {
        operation: "UPDATE",
        resource: { group: "", version: "v1", resource: "pods" },
        name: "p",
        namespace: "kube-system",
        namespaceLabels: KUBE_SYSTEM_LABELS,
        userInfo: agentOn("node-1", sa),
      },
      object: {},
      oldObject: {},
    }),
    "not matched",
  ],
  [
    "agent records an Event about its own NLS",
    EVENTS_POLICY,
    (sa) => eventRequest(agentOn("node-1", sa), "CREATE", event("node-1")),
    "allowed",
  ],
  [
    "agent records an Event about another node's NLS",
    EVENTS_POLICY,
    (sa) => eventRequest(agentOn("node-1", sa), "CREATE", event("node-2")),
    "denied",
    /node node-1 may only record Events about NodeLocalStorage node-1/,
  ],
  [
    "agent records an Event about a Pod named like its node",
    EVENTS_POLICY,
    (sa) => eventRequest(agentOn("node-1", sa), "CREATE", event("node-1", "Pod")),
    "denied",
    /may only record Events about NodeLocalStorage/,
  ],
  [
    "agent rewrites an Event (even its own)",
    EVENTS_POLICY,
    (sa) => eventRequest(agentOn("node-1", sa), "UPDATE", event("node-1")),
    "denied",
    /may only create Events/,
  ],
  [
    "agent deletes an Event",
    EVENTS_POLICY,
    (sa) => eventRequest(agentOn("node-1", sa), "DELETE", event("node-1")),
    "denied",
    /may only create Events/,
  ],
  [
    "agent records an Event in default with a token not bound to a node",
    EVENTS_POLICY,
    (sa) =>
      eventRequest(agentOn(undefined, sa), "CREATE", event("node-1"), { "kubernetes.io/metadata.name": "default" }),
    "denied",
    /node-bound/,
  ],
  [
    "kube-controller-manager records Events",
    EVENTS_POLICY,
    () => eventRequest({ username: "system:kube-controller-manager", extra: {} }, "CREATE", event("node-1", "Pod")),
    "not matched",
  ],
];

for (const install of Object.keys(installs) as Install[]) {
  for (const [name, policyName, input, want, message] of cases) {
    test(`${install}: ${policyName}: ${name} → ${want}`, async (t) => {
      const v = await verdict(install, policyName, input(`${prefixOf(install)}nls-agent`));
      if (want === "not matched") return t.false(v.matched, v.matched ? v.messages.join("; ") : "");
      t.true(v.matched);
      if (!v.matched) return;
      t.is(v.allowed, want === "allowed", v.messages.join("; "));
      if (message) t.regex(v.messages.join("; "), message);
    });
  }
}

test("without its parameter the agents' policy denies what it matches, the Events policy lets it through", async (t) => {
  const objects = (await kustomize()).filter((o) => o.kind !== "ConfigMap");
  const bound = (name: string, input: AdmissionInput) =>
    admitBound(
      (find(objects, "ValidatingAdmissionPolicy", name) as unknown as { spec: PolicySpec }).spec,
      (find(objects, "ValidatingAdmissionPolicyBinding", name) as unknown as { spec: BindingSpec }).spec,
      objects as never,
      input,
    );
  t.like(bound(AGENT_POLICY, nlsRequest(agentOn("node-1"), "UPDATE", nls("node-2"), "status")), { allowed: false });
  t.false(bound(EVENTS_POLICY, eventRequest(agentOn("node-1"), "CREATE", event("node-2"))).matched);
  // Still never kube-system's Leases.
  t.false(
    bound(AGENT_POLICY, leaseRequest(admin, "UPDATE", "kube-scheduler", "kube-system", KUBE_SYSTEM_LABELS)).matched,
  );
});

for (const [name, notFound] of [
  [AGENT_POLICY, "Deny"],
  [EVENTS_POLICY, "Allow"],
  [EXTENDER_POLICY, "Allow"],
  [EXTENDER_LEASE_POLICY, "Allow"],
  [CA_BUNDLE_POLICY, "Allow"],
] as const) {
  test(`${name} is bound to its parameter, denies, and fails closed`, async (t) => {
    const binding = find(await kustomize(), "ValidatingAdmissionPolicyBinding", name) as unknown as {
      spec: BindingSpec;
    };
    t.is(binding.spec.policyName, name);
    t.deepEqual(binding.spec.validationActions, ["Deny"]);
    t.is(binding.spec.paramRef?.parameterNotFoundAction, notFound);
    t.is((await policy(name)).failurePolicy, "Fail");
  });
}

// ---- the extender: PVC writes limited to its allocation annotation ----

const extenderAs = (sa: string) => ({ username: `system:serviceaccount:kube-system:${sa}`, extra: {} });

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
const extenderCases: ExtenderCase[] = [
  ["adds its annotation to a PVC without any", (sa: string) => pvcUpdate(extenderAs(sa), pvc(), pvc(alloc)), "allowed"],
  [
    "adds its annotation next to others",
    (sa: string) => pvcUpdate(extenderAs(sa), pvc(selected), pvc({ ...selected, ...alloc })),
    "allowed",
  ],
  [
    "rewrites its annotation",
    (sa: string) => pvcUpdate(extenderAs(sa), pvc(alloc), pvc({ [ANNOTATION_NLS_ALLOCATION]: '{"node":"node-2"}' })),
    "allowed",
  ],
  [
    "removes its annotation",
    (sa: string) => pvcUpdate(extenderAs(sa), pvc({ ...selected, ...alloc }), pvc(selected)),
    "allowed",
  ],
  [
    "changes another annotation",
    (sa: string) =>
      pvcUpdate(extenderAs(sa), pvc(selected), pvc({ "volume.kubernetes.io/selected-node": "node-2", ...alloc })),
    "denied",
    /may only write the annotation nls.csi.aliyun.com\/allocation/,
  ],
  [
    "removes another annotation",
    (sa: string) => pvcUpdate(extenderAs(sa), pvc(selected), pvc(alloc)),
    "denied",
    /may only write the annotation/,
  ],
  [
    "resizes the claim",
    (sa: string) =>
      pvcUpdate(extenderAs(sa), pvc(), {
        ...pvc(alloc),
        spec: { storageClassName: "open-local-lvm", resources: { requests: { storage: "1Ti" } } },
      }),
    "denied",
    /may not change a PVC's spec/,
  ],
  [
    "adds a finalizer",
    (sa: string) => pvcUpdate(extenderAs(sa), pvc(), pvc(alloc, { finalizers: ["x/y"] })),
    "denied",
    /labels, finalizers or owners/,
  ],
  [
    "adds a label",
    (sa: string) => pvcUpdate(extenderAs(sa), pvc(), pvc(alloc, { labels: { a: "b" } })),
    "denied",
    /labels/,
  ],
  [
    "a user edits the claim freely",
    () => pvcUpdate({ username: "alice", extra: {} }, pvc(), pvc(selected, { labels: { a: "b" } })),
    "not matched",
  ],
];

/** Each case, for deploy/ and the renamed install, as the extender's service account of that install. */
function extenderPolicyCases(title: string, policyName: string, cases: ExtenderCase[]) {
  for (const install of Object.keys(installs) as Install[]) {
    for (const [name, input, want, message] of cases) {
      test(`${install}: ${title}: ${name} → ${want}`, async (t) => {
        const v = await verdict(install, policyName, input(`${prefixOf(install)}nls-extender`));
        if (want === "not matched") return t.false(v.matched);
        t.true(v.matched);
        if (!v.matched) return;
        t.is(v.allowed, want === "allowed", v.messages.join("; "));
        if (message) t.regex(v.messages.join("; "), message);
      });
    }
  }
}

extenderPolicyCases("extender admission policy", EXTENDER_POLICY, extenderCases);

test("the extender policy guards the annotation the extender writes (@nls/api)", async (t) => {
  const key = (await policy(EXTENDER_POLICY)).variables?.find((v) => v.name === "key")?.expression;
  t.is(key, `'${ANNOTATION_NLS_ALLOCATION}'`);
});

// ---- the extender: the one Lease it may create ----

const leaseCases: ExtenderCase[] = [
  [
    // Named like the extender's Deployment and ServiceAccount, renamed with them.
    "creates its leader-election Lease",
    (sa) => leaseRequest(extenderAs(sa), "CREATE", sa, "kube-system", KUBE_SYSTEM_LABELS),
    "allowed",
  ],
  [
    "creates kube-scheduler's leader-election Lease",
    (sa) => leaseRequest(extenderAs(sa), "CREATE", "kube-scheduler", "kube-system", KUBE_SYSTEM_LABELS),
    "denied",
    /may only create its leader-election Lease kube-system\/(acme-)?nls-extender, not kube-system\/kube-scheduler/,
  ],
  [
    "creates a Lease named like its own in another namespace",
    (sa) => leaseRequest(extenderAs(sa), "CREATE", sa, "nls-node-lease"),
    "denied",
    /not nls-node-lease\/(acme-)?nls-extender/,
  ],
  [
    "kube-scheduler creates its own Lease",
    () =>
      leaseRequest(
        { username: "system:kube-scheduler", extra: {} },
        "CREATE",
        "kube-scheduler",
        "kube-system",
        KUBE_SYSTEM_LABELS,
      ),
    "not matched",
  ],
];

extenderPolicyCases("extender Lease policy", EXTENDER_LEASE_POLICY, leaseCases);

test("the Lease the extender may create is the one RBAC lets it get and update, and the one it elects with", async (t) => {
  t.is(leaderLease(t, await kustomize()), "nls-extender");
  t.is(leaderLease(t, await kustomizeOverlay(renamedOverlay)), "acme-nls-extender", "renamed with the Deployment");
});

// ---- the extender: its webhook configuration's caBundle and nothing else ----

interface Webhook {
  name: string;
  clientConfig: { caBundle?: string; service?: Record<string, unknown>; url?: string };
  [field: string]: unknown;
}
interface WebhookConfiguration {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  webhooks: Webhook[];
}
// Read at once (tests are declared synchronously): the file, not kustomize's output, needs no kubectl.
const shipped = parse(
  readFileSync(`${repoRoot}deploy/components/managed-resources-webhook/mutating-webhook.yaml`, "utf8"),
) as WebhookConfiguration;
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");

/** The shipped configuration with each webhook changed by `edit` (a copy: the shipped one stays). */
const configWith = (edit: (w: Webhook) => Webhook = (w) => w, meta: object = {}): WebhookConfiguration => {
  const copy = structuredClone(shipped);
  return { ...copy, metadata: { ...copy.metadata, ...meta }, webhooks: copy.webhooks.map(edit) };
};
const withCa = (w: Webhook, caBundle = CA): Webhook => ({ ...w, clientConfig: { ...w.clientConfig, caBundle } });

function configUpdate(userInfo: AdmissionRequest["userInfo"], before: object, after: object): AdmissionInput {
  return {
    request: {
      operation: "UPDATE",
      resource: { group: "admissionregistration.k8s.io", version: "v1", resource: "mutatingwebhookconfigurations" },
      name: shipped.metadata.name,
      userInfo,
    },
    object: after,
    oldObject: before,
  };
}

const caCases: ExtenderCase[] = [
  [
    "writes the caBundle of the shipped configuration",
    (sa) => configUpdate(extenderAs(sa), configWith(), configWith(withCa)),
    "allowed",
  ],
  [
    "replaces a caBundle it wrote (a renewed CA)",
    (sa) =>
      configUpdate(
        extenderAs(sa),
        configWith(withCa),
        configWith((w) => withCa(w, Buffer.from("x").toString("base64"))),
      ),
    "allowed",
  ],
  [
    "points the webhook at a URL of its choosing",
    (sa) =>
      configUpdate(
        extenderAs(sa),
        configWith(withCa),
        configWith((w) => ({ ...w, clientConfig: { url: "https://evil.example/mutate", caBundle: CA } })),
      ),
    "denied",
    /may only write the caBundle/,
  ],
  [
    "sends to another Service",
    (sa) =>
      configUpdate(
        extenderAs(sa),
        configWith(withCa),
        configWith((w) => withCa({ ...w, clientConfig: { service: { ...w.clientConfig.service, name: "other" } } })),
      ),
    "denied",
    /may only write the caBundle/,
  ],
  [
    "matches every pod (its matchConditions dropped)",
    (sa) =>
      configUpdate(
        extenderAs(sa),
        configWith(withCa),
        configWith((w) =>
          withCa(Object.fromEntries(Object.entries(w).filter(([k]) => k !== "matchConditions")) as Webhook),
        ),
      ),
    "denied",
    /may only write the caBundle/,
  ],
  [
    "matches kube-system too (its namespaceSelector emptied)",
    (sa) =>
      configUpdate(
        extenderAs(sa),
        configWith(withCa),
        configWith((w) => withCa({ ...w, namespaceSelector: {} })),
      ),
    "denied",
    /may only write the caBundle/,
  ],
  [
    "lets pods through when it is down (failurePolicy Ignore)",
    (sa) =>
      configUpdate(
        extenderAs(sa),
        configWith(),
        configWith((w) => withCa({ ...w, failurePolicy: "Ignore" })),
      ),
    "denied",
    /may only write the caBundle/,
  ],
  [
    "adds a webhook",
    (sa) => {
      const after = configWith(withCa);
      return configUpdate(extenderAs(sa), configWith(withCa), {
        ...after,
        webhooks: [...after.webhooks, { ...after.webhooks[0]!, name: "more.example.com" }],
      });
    },
    "denied",
    /may only write the caBundle/,
  ],
  [
    "renames its webhook",
    (sa) =>
      configUpdate(
        extenderAs(sa),
        configWith(withCa),
        configWith((w) => ({ ...w, name: "other.example.com" })),
      ),
    "denied",
    /may only write the caBundle/,
  ],
  [
    "adds an annotation (a CA injector's)",
    (sa) =>
      configUpdate(
        extenderAs(sa),
        configWith(withCa),
        configWith(withCa, { annotations: { "cert-manager.io/inject-ca-from": "app/attacker" } }),
      ),
    "denied",
    /labels, annotations, finalizers or owners/,
  ],
  [
    "an administrator edits the configuration freely",
    () =>
      configUpdate(
        { username: "alice", extra: {} },
        configWith(withCa),
        configWith((w) => ({ ...w, failurePolicy: "Ignore" })),
      ),
    "not matched",
  ],
];

extenderPolicyCases("extender webhook-configuration policy", CA_BUNDLE_POLICY, caCases);

test("the caBundle policy names every field of the webhooks it ships (a field it does not name goes unguarded)", async (t) => {
  const comparison = await caBundleComparison();
  for (const w of shipped.webhooks) {
    for (const field of Object.keys(w).filter((f) => f !== "name" && f !== "clientConfig")) {
      t.true(keepsWebhookField(comparison, field), field);
    }
    for (const field of Object.keys(w.clientConfig).filter((f) => f !== "caBundle")) {
      t.true(keepsWebhookField(comparison, `clientConfig.${field}`), `clientConfig.${field}`);
    }
  }
});
