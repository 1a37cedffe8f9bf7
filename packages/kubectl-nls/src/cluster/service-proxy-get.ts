import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { apiStatus, errorText } from "./api-error.js";
import { serviceRefText, type ServiceRef } from "./reader.js";
import { hasSelector, podEndpoint } from "./service-endpoint.js";

/** The API server calls that reach a Service's pod; api-reader.ts makes them with client-node. */
export interface ProxyApi {
  service(namespace: string, name: string): Promise<V1Service>;
  /** The EndpointSlices labelled `kubernetes.io/service-name=<service>`. */
  endpointSlices(namespace: string, service: string): Promise<V1EndpointSlice[]>;
  /** GET `path` of a pod through its pods/proxy subresource; `name` is `[https:]POD:PORT`. */
  podProxy(namespace: string, name: string, path: string): Promise<unknown>;
  /** GET `path` through the Service's services/proxy subresource; `name` is `[https:]SERVICE[:PORT]`. */
  serviceProxy(namespace: string, name: string, path: string): Promise<unknown>;
}

/** What the EndpointSlice route needs in the Service's namespace. */
export const sliceRouteRbac = (namespace: string): string =>
  `get services, list endpointslices (discovery.k8s.io) and get pods/proxy in ${namespace}`;

/** A reply, and who gave it: `pod NAMESPACE/NAME` (the endpoint asked), or `service [https:]NAMESPACE/NAME[:PORT]`. */
export interface ServiceReply {
  body: unknown;
  from: string;
}

type SliceRoute =
  | { reached: true; body: unknown; pod: string }
  /** `fallback`: the service proxy may still reach the Service (it has a selector, or was not readable). */
  | { reached: false; why: string; fallback: boolean };

const forbidden = (e: unknown): boolean => apiStatus(e) === 403;

/** A network error, or an API error other than 403 (which other RBAC might avoid): no other route helps. */
class Final extends Error {}

async function throughSlices(api: ProxyApi, ref: ServiceRef, path: string): Promise<SliceRoute> {
  const { namespace, name } = ref;
  const step = async <T>(what: string, call: () => Promise<T>): Promise<T | { why: string }> => {
    try {
      return await call();
    } catch (e) {
      if (!forbidden(e)) throw new Final(`${what}: ${errorText(e)}`);
      return { why: `${what}: ${errorText(e)}` };
    }
  };
  const service = await step(`get Service ${namespace}/${name}`, () => api.service(namespace, name));
  if ("why" in service) return { reached: false, why: service.why, fallback: true };
  const fallback = hasSelector(service);
  const slices = await step(`list the EndpointSlices of Service ${namespace}/${name}`, () =>
    api.endpointSlices(namespace, name),
  );
  if ("why" in slices) return { reached: false, why: slices.why, fallback };
  const choice = podEndpoint(service, slices, ref.port);
  if (!choice.ok) return { reached: false, why: `Service ${namespace}/${name}: ${choice.why}`, fallback };
  const pod = `${ref.scheme ? `${ref.scheme}:` : ""}${choice.target.pod}:${choice.target.port}`;
  const reply = await step(
    `GET ${path} through pods/proxy of ${namespace}/${pod} (the endpoint in EndpointSlice ${choice.target.slice})`,
    async () => ({ body: await api.podProxy(namespace, pod, path) }),
  );
  if ("why" in reply) return { reached: false, why: reply.why, fallback };
  return { reached: true, body: reply.body, pod: choice.target.pod };
}

/**
 * GET `path` of the pod behind a Service, through the API server. First through the Service's
 * EndpointSlices: its ready Pod endpoint for the port asked for, reached with pods/proxy — this is what
 * reaches a Service without a selector, whose slices a controller writes (the extender's leader writes
 * itself into its Services' slices). Then, only when that route reached no pod and the Service has a
 * selector (or could not be read), through the service proxy, which reads the legacy Endpoints that the
 * endpoints controller keeps for such a Service. Every failure says what was tried and what RBAC it needs.
 * The reply says which pod answered; through the service proxy only the Service is known (the API server
 * picked one of its endpoints).
 */
export async function getThroughService(api: ProxyApi, ref: ServiceRef, path: string): Promise<ServiceReply> {
  const { namespace, name } = ref;
  const needs = sliceRouteRbac(namespace);
  let slices: SliceRoute;
  try {
    slices = await throughSlices(api, ref, path);
  } catch (e) {
    if (e instanceof Final) throw new Error(`${e.message} (this route needs ${needs})`);
    throw e;
  }
  if (slices.reached) return { body: slices.body, from: `pod ${namespace}/${slices.pod}` };
  if (!slices.fallback) {
    throw new Error(`${slices.why} (this route needs ${needs}; a Service without a selector has no other)`);
  }
  const target = `${ref.scheme ? `${ref.scheme}:` : ""}${name}${ref.port ? `:${ref.port}` : ""}`;
  try {
    return { body: await api.serviceProxy(namespace, target, path), from: `service ${serviceRefText(ref)}` };
  } catch (e) {
    throw new Error(
      `${slices.why}; then GET ${path} through the service proxy of ${namespace}/${target}: ${errorText(e)} ` +
        `(needs ${needs}, or get services/proxy in ${namespace} for a Service with a selector)`,
    );
  }
}
