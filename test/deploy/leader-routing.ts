/** What the tests of deploy/ check about the leader's routing, for deploy/ and each component. */
import type { ExecutionContext } from "ava";
import { Deployment } from "kubernetes-models/apps/v1";
import { Service } from "kubernetes-models/v1";
import { find, type KubeObject } from "./render.js";

export interface Slice extends KubeObject {
  addressType: string;
  endpoints?: unknown;
  ports: Array<{ name: string; port: number; protocol: string }>;
}

/**
 * Checks that the leader alone is routed to: each Service is selector-less and has the one
 * EndpointSlice of its name, labelled for it and for no controller, shipped empty, with a
 * port of each Service port's name at a port the extender container listens on; the Deployment's
 * --leader-endpoint-slices names exactly those slices, and the pod learns its IP from the downward API.
 * Returns the slices' names.
 */
export function leaderRouted(t: ExecutionContext, objects: KubeObject[]): string[] {
  const deploy = new Deployment(find(objects, "Deployment", "nls-extender") as never);
  const c = deploy.spec!.template.spec!.containers[0]!;
  const arg = c.args?.find((a) => a.startsWith("--leader-endpoint-slices="));
  const names = arg?.slice("--leader-endpoint-slices=".length).split(",") ?? [];
  t.like(
    c.env?.find((e) => e.name === "POD_IP"),
    { valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
  );
  const slices = objects.filter((o): o is Slice => o.kind === "EndpointSlice");
  t.deepEqual(slices.map((s) => s.metadata.name).sort(), [...names].sort(), "a slice for each name, no other");
  for (const name of names) {
    const svc = new Service(find(objects, "Service", name) as never);
    const slice = find(objects, "EndpointSlice", name) as Slice;
    t.is(svc.spec?.selector, undefined, `Service ${name} has no selector: the leader's slice routes`);
    t.is(slice.metadata.namespace, deploy.metadata?.namespace);
    t.like(slice.metadata.labels, {
      "kubernetes.io/service-name": name,
      "endpointslice.kubernetes.io/managed-by": "nls-extender.nls.csi.aliyun.com",
    });
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
