/** What the tests of deploy/ check about the leader's routing, for deploy/, each component and renames. */
import type { ExecutionContext } from "ava";
import { Deployment } from "kubernetes-models/apps/v1";
import { Service } from "kubernetes-models/v1";
import { containerCommand, podOf } from "../e2e/container-command.js";
import { find, type KubeObject } from "./render.js";

export interface Slice extends KubeObject {
  addressType: string;
  endpoints?: unknown;
  ports: Array<{ name: string; port: number; protocol: string }>;
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** The extender's Deployment, found by its label (which renames keep), whatever it is named. */
export function extenderDeployment(objects: KubeObject[]): KubeObject {
  const found = objects.filter(
    (o) => o.kind === "Deployment" && o.metadata.labels?.["app.kubernetes.io/name"] === "nls-extender",
  );
  if (found.length !== 1) throw new Error(`expected one extender Deployment, found ${found.length}`);
  return found[0]!;
}

/** The extender's flags and env as the kubelet gives them to the process (`$(VAR)` expanded). */
export function extenderCommand(objects: KubeObject[]): { args: string[]; env: Record<string, string> } {
  const deploy = extenderDeployment(objects);
  return containerCommand(podOf(deploy as never, `${deploy.metadata.name}-0`, "node-1"), "10.88.0.1");
}

/** The value of `--<flag>=` among `args` (undefined when absent). */
export const flagValue = (args: string[], flag: string): string | undefined =>
  args.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);

/** Every rule the extender's ServiceAccount holds in its own namespace (Roles bound there). */
function extenderRules(objects: KubeObject[]): Rule[] {
  const deploy = extenderDeployment(objects);
  const ns = deploy.metadata.namespace;
  const serviceAccount = (deploy.spec as { template: { spec: { serviceAccountName: string } } }).template.spec
    .serviceAccountName;
  const bound = objects
    .filter((o) => o.kind === "RoleBinding" && o.metadata.namespace === ns)
    .map((o) => o as unknown as { subjects: Array<{ name: string; namespace?: string }>; roleRef: { name: string } })
    .filter((b) => b.subjects.some((s) => s.name === serviceAccount && s.namespace === ns))
    .map((b) => b.roleRef.name);
  return objects
    .filter((o) => o.kind === "Role" && o.metadata.namespace === ns && bound.includes(o.metadata.name))
    .flatMap((o) => (o as unknown as { rules: Rule[] }).rules);
}

/**
 * Checks that the leader alone is routed to: the Deployment's --leader-endpoint-slices (as the kubelet
 * expands it) names exactly the EndpointSlices shipped, each of its Service (the Service of that name,
 * by the label kube-proxy reads), selector-less, labelled for no controller, shipped empty,
 * with a port of each Service port's name at a port the extender container listens on; the Role lets
 * the extender get and patch exactly those slices; the pod learns its IP from the downward API.
 * Returns the slices' names.
 */
export function leaderRouted(t: ExecutionContext, objects: KubeObject[]): string[] {
  const deploy = new Deployment(extenderDeployment(objects) as never);
  const c = deploy.spec!.template.spec!.containers[0]!;
  const names = flagValue(extenderCommand(objects).args, "leader-endpoint-slices")?.split(",") ?? [];
  t.like(
    c.env?.find((e) => e.name === "POD_IP"),
    { valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
  );
  const slices = objects.filter((o): o is Slice => o.kind === "EndpointSlice");
  t.deepEqual(slices.map((s) => s.metadata.name).sort(), [...names].sort(), "a slice for each name, no other");
  const sliceRules = extenderRules(objects).filter((r) => r.resources.includes("endpointslices"));
  t.deepEqual(
    sliceRules.map((r) => ({ names: [...(r.resourceNames ?? [])].sort(), verbs: r.verbs })),
    [{ names: [...names].sort(), verbs: ["get", "patch"] }],
    "the Role: get and patch on these slices, nothing else",
  );
  for (const name of names) {
    const slice = find(objects, "EndpointSlice", name) as Slice;
    const serviceName = slice.metadata.labels?.["kubernetes.io/service-name"];
    t.is(serviceName, name, `slice ${name} belongs to the Service of its name`);
    const svc = new Service(find(objects, "Service", serviceName ?? "") as never);
    t.is(svc.spec?.selector, undefined, `Service ${name} has no selector: the leader's slice routes`);
    t.is(slice.metadata.namespace, deploy.metadata?.namespace);
    t.is(svc.metadata?.namespace, deploy.metadata?.namespace);
    t.like(slice.metadata.labels, { "endpointslice.kubernetes.io/managed-by": "nls-extender.nls.csi.aliyun.com" });
    t.is(slice.addressType, "IPv4");
    t.deepEqual(slice.endpoints, [], "shipped empty: only the leader writes its address");
    t.deepEqual(
      slice.ports.map((p) => p.name),
      svc.spec?.ports?.map((p) => p.name),
      `${name}: a slice port for each Service port, by name`,
    );
    for (const p of slice.ports) {
      t.truthy(
        c.ports?.find((cp) => cp.containerPort === p.port),
        `${name}: slice port ${p.name} (${p.port}) is a port of the extender container`,
      );
    }
  }
  return names;
}

/**
 * Checks that the extender elects a leader on the one Lease its Role lets it get and update and its
 * admission policy's parameter lets it create, named like its Deployment (given in its env, so a
 * rename renames it too). Returns the Lease's name.
 */
export function leaderLease(t: ExecutionContext, objects: KubeObject[]): string {
  const deploy = extenderDeployment(objects);
  const { args, env } = extenderCommand(objects);
  t.is(flagValue(args, "leader-elect-resource-name"), undefined, "the Lease is named in the env, not by a flag");
  const lease = env.NLS_LEADER_ELECT_RESOURCE_NAME;
  t.is(lease, deploy.metadata.name, "the Lease is named like the Deployment");
  const leaseRules = extenderRules(objects).filter((r) => r.resources.includes("leases") && r.resourceNames);
  t.deepEqual(
    leaseRules.map((r) => r.resourceNames),
    [[lease]],
  );
  const params = objects.find(
    (o) =>
      o.kind === "ConfigMap" &&
      o.metadata.namespace === deploy.metadata.namespace &&
      o.metadata.labels?.["nls.csi.aliyun.com/policy-params"] === "nls-extender",
  ) as unknown as { data: { leaderElectionLease: string } } | undefined;
  t.is(params?.data.leaderElectionLease, lease, "the one Lease the admission policy lets it create");
  return lease ?? "";
}
