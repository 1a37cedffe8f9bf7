import type { IPolicyRule } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { find, kustomize, type KubeObject } from "./render.js";
import { hasKubectl, testWithTool } from "./tools.js";

const test = testWithTool(hasKubectl);

/** A role's rules as `group/resource[:names]` → sorted verbs, so a test can name every grant. */
function grants(role: KubeObject): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rule of (role as unknown as { rules: IPolicyRule[] }).rules) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const key = `${group || "core"}/${resource}${rule.resourceNames ? `:${rule.resourceNames.join(",")}` : ""}`;
        out[key] = [...new Set([...(out[key] ?? []), ...rule.verbs])].sort();
      }
    }
  }
  return out;
}

test("cluster-wide, the agent may read and create NLS, write only their status, read NLSC and Nodes", async (t) => {
  t.deepEqual(grants(find(await kustomize(), "ClusterRole", "nls-agent")), {
    "csi.aliyun.com/nodelocalstorages": ["create", "get", "watch"],
    "csi.aliyun.com/nodelocalstorages/status": ["update"],
    "csi.aliyun.com/nodelocalstorageinitconfigs": ["get"],
    "core/nodes": ["get"],
  });
});

test("the agent creates Events in its namespace and writes Leases only in nls-node-lease", async (t) => {
  const objects = await kustomize();
  const roles = objects.filter((o) => o.kind === "Role" && o.metadata.name.startsWith("nls-agent"));
  t.deepEqual(Object.fromEntries(roles.map((r) => [r.metadata.namespace, grants(r)])), {
    // Create only: no patch/update, so no Event of anyone else can be rewritten.
    "kube-system": { "core/events": ["create"] },
    // No Lease rights in kube-system, where the control plane's leader-election Leases live.
    "nls-node-lease": { "coordination.k8s.io/leases": ["create", "get", "update"] },
  });
  const daemonset = find(objects, "DaemonSet", "nls-agent") as unknown as {
    spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
  };
  t.true(daemonset.spec.template.spec.containers[0]!.args.includes("--lease-namespace=nls-node-lease"));
});

test("the extender only lists and watches, lists pods for the reserve route, and patches PVCs", async (t) => {
  t.deepEqual(grants(find(await kustomize(), "ClusterRole", "nls-extender")), {
    "csi.aliyun.com/nodelocalstorages": ["list", "watch"],
    "core/persistentvolumes": ["list", "watch"],
    "core/persistentvolumeclaims": ["list", "patch", "watch"],
    // The reserve route's check that a pod of the claim's namespace waits: a list, no watch.
    "core/pods": ["list"],
    "storage.k8s.io/storageclasses": ["list", "watch"],
  });
  const objects = await kustomize();
  const roles = objects.filter(
    (o) => o.kind === "Role" && o.metadata.name.startsWith("nls-extender") && !o.metadata.name.includes("webhook"),
  );
  t.deepEqual(Object.fromEntries(roles.map((r) => [r.metadata.namespace, grants(r)])), {
    // Its own election Lease: get/update by name only (create cannot be narrowed by name).
    "kube-system": {
      "coordination.k8s.io/leases": ["create"],
      "coordination.k8s.io/leases:nls-extender": ["get", "update"],
      // The leader's EndpointSlices, by name: read and patch (resourceVersion-checked), no create or delete.
      "discovery.k8s.io/endpointslices:nls-extender,open-local-scheduler-extender": ["get", "patch"],
    },
    // Reading the agents' Leases.
    "nls-node-lease": { "coordination.k8s.io/leases": ["list", "watch"] },
  });
  // The admission webhook's certificate (components/managed-resources-webhook): its own Secret and
  // its own configuration's caBundle, by name; no create, list or delete.
  t.deepEqual(grants(find(objects, "Role", "nls-extender-webhook-certificate")), {
    "core/secrets:nls-extender-webhook-tls": ["get", "update"],
  });
  t.deepEqual(grants(find(objects, "ClusterRole", "nls-extender-webhook-ca-bundle")), {
    "admissionregistration.k8s.io/mutatingwebhookconfigurations:nls-local-storage-request": ["get", "patch"],
  });
});

const OPERATOR_ROLES = [
  "nls-nodelocalstorage-editor",
  "nls-nodelocalstorage-viewer",
  "nls-kubectl-reader",
  "nls-kubectl-lease-reader",
];

test("no rule anywhere uses a wildcard, and no daemon may read Secrets (but the webhook's own), delete or escalate", async (t) => {
  for (const role of (await kustomize()).filter((o) => o.kind === "ClusterRole" || o.kind === "Role")) {
    const text = JSON.stringify((role as { rules?: unknown }).rules);
    t.false(text.includes('"*"'), `${role.kind}/${role.metadata.name}`);
    // Secrets: none, but the extender's own webhook certificate, by name (checked above).
    const forbidden = ["bind", "escalate", "impersonate", "deletecollection"];
    if (role.metadata.name !== "nls-extender-webhook-certificate") forbidden.push("secrets");
    if (!OPERATOR_ROLES.includes(role.metadata.name)) forbidden.push("delete");
    for (const word of forbidden) {
      t.false(text.includes(`"${word}"`), `${role.kind}/${role.metadata.name} grants ${word}`);
    }
  }
});

test("operators get an NLS editor, a viewer and kubectl nls's readers, none bound nor aggregated into admin/edit/view", async (t) => {
  const objects = await kustomize();
  const verbs = ["create", "delete", "get", "list", "patch", "update", "watch"];
  t.deepEqual(grants(find(objects, "ClusterRole", "nls-nodelocalstorage-editor")), {
    "csi.aliyun.com/nodelocalstorages": verbs,
    "csi.aliyun.com/nodelocalstorageinitconfigs": verbs,
  });
  t.deepEqual(grants(find(objects, "ClusterRole", "nls-nodelocalstorage-viewer")), {
    "csi.aliyun.com/nodelocalstorages": ["get", "list", "watch"],
    "csi.aliyun.com/nodelocalstorageinitconfigs": ["get", "list", "watch"],
  });
  // kubectl nls reads, and only reads: lists for capacity and simulate, the pod for explain; Leases only where the agents keep them.
  t.deepEqual(grants(find(objects, "ClusterRole", "nls-kubectl-reader")), {
    "core/nodes": ["list"],
    "core/namespaces": ["list"],
    "core/persistentvolumes": ["list"],
    "core/persistentvolumeclaims": ["list"],
    "core/events": ["list"],
    "core/pods": ["get", "list"],
    "storage.k8s.io/storageclasses": ["list"],
    "csi.aliyun.com/nodelocalstorages": ["list"],
  });
  const leaseReader = find(objects, "Role", "nls-kubectl-lease-reader");
  t.is(leaseReader.metadata.namespace, "nls-node-lease");
  t.deepEqual(grants(leaseReader), { "coordination.k8s.io/leases": ["list"] });
  for (const name of OPERATOR_ROLES) {
    const role = objects.find((o) => (o.kind === "ClusterRole" || o.kind === "Role") && o.metadata.name === name);
    const labels = role?.metadata.labels ?? {};
    t.deepEqual(
      Object.keys(labels).filter((k) => k.startsWith("rbac.authorization.k8s.io/aggregate-to-")),
      [],
      name,
    );
    t.false(
      objects.some(
        (o) =>
          (o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding") &&
          (o as unknown as { roleRef: { name: string } }).roleRef.name === name,
      ),
      `${name} is bound by deploy/`,
    );
  }
});

test("each binding gives its role to its own daemon's ServiceAccount and nothing else", async (t) => {
  const objects = await kustomize();
  for (const binding of objects.filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding")) {
    const b = binding as unknown as {
      roleRef: { kind: string; name: string };
      subjects: Array<{ kind: string; name: string; namespace: string }>;
    };
    const name = binding.metadata.name;
    t.is(b.roleRef.kind, binding.kind === "RoleBinding" ? "Role" : "ClusterRole");
    t.is(b.roleRef.name, name);
    // A RoleBinding grants the Role of its own namespace.
    t.true(
      objects.some(
        (o) =>
          o.kind === b.roleRef.kind && o.metadata.name === name && o.metadata.namespace === binding.metadata.namespace,
      ),
      `${binding.kind} ${binding.metadata.namespace ?? ""}/${name} has its role`,
    );
    // The daemon's ServiceAccount: nls-agent for nls-agent and nls-agent-lease, nls-extender for its
    // webhook certificate's roles.
    const daemon = name.replace(/-lease$/, "").replace(/-webhook-(certificate|ca-bundle)$/, "");
    t.deepEqual(b.subjects, [{ kind: "ServiceAccount", name: daemon, namespace: "kube-system" }]);
    t.truthy(find(objects, "ServiceAccount", daemon));
  }
  for (const [kind, name] of [
    ["DaemonSet", "nls-agent"],
    ["Deployment", "nls-extender"],
  ] as const) {
    const pod = find(objects, kind, name) as unknown as {
      spec: { template: { spec: { serviceAccountName: string } } };
    };
    t.is(pod.spec.template.spec.serviceAccountName, name);
  }
});
