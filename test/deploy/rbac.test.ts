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

test("the agent's Lease and Event rights are confined to its namespace", async (t) => {
  const role = find(await kustomize(), "Role", "nls-agent");
  t.is(role.metadata.namespace, "kube-system");
  t.deepEqual(grants(role), {
    "coordination.k8s.io/leases": ["create", "get", "update"],
    "core/events": ["create", "patch"],
    "events.k8s.io/events": ["create", "patch"],
  });
});

test("the extender only lists and watches, and patches PVCs", async (t) => {
  t.deepEqual(grants(find(await kustomize(), "ClusterRole", "nls-extender")), {
    "csi.aliyun.com/nodelocalstorages": ["list", "watch"],
    "core/persistentvolumes": ["list", "watch"],
    "core/persistentvolumeclaims": ["list", "patch", "watch"],
    "storage.k8s.io/storageclasses": ["list", "watch"],
  });
  const role = find(await kustomize(), "Role", "nls-extender");
  t.is(role.metadata.namespace, "kube-system");
  // Reading the agents' Leases; get/update only its own election Lease (create cannot be narrowed).
  t.deepEqual(grants(role), {
    "coordination.k8s.io/leases": ["create", "list", "watch"],
    "coordination.k8s.io/leases:nls-extender": ["get", "update"],
  });
});

test("no rule anywhere uses a wildcard, and nothing may read Secrets or escalate", async (t) => {
  for (const role of (await kustomize()).filter((o) => o.kind === "ClusterRole" || o.kind === "Role")) {
    const text = JSON.stringify((role as { rules?: unknown }).rules);
    t.false(text.includes('"*"'), `${role.kind}/${role.metadata.name}`);
    for (const forbidden of ["secrets", "bind", "escalate", "impersonate", "delete", "deletecollection"]) {
      t.false(text.includes(`"${forbidden}"`), `${role.kind}/${role.metadata.name} grants ${forbidden}`);
    }
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
    t.truthy(find(objects, b.roleRef.kind, name));
    t.deepEqual(b.subjects, [{ kind: "ServiceAccount", name, namespace: "kube-system" }]);
    t.truthy(find(objects, "ServiceAccount", name));
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
