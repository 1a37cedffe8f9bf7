/**
 * Which pod, on which port, a Service's EndpointSlices send a request to — chosen here so `kubectl nls`
 * can reach it through the API server's pods/proxy. The API server's own service proxy reads legacy
 * Endpoints, which nothing writes for a Service without a selector (the extender's leader writes only
 * EndpointSlices).
 */
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";

/** A pod of the Service's namespace and the port it listens on for the Service port asked for. */
export interface PodTarget {
  pod: string;
  port: number;
  /** The EndpointSlice that named it. */
  slice: string;
}

export type EndpointChoice = { ok: true; target: PodTarget } | { ok: false; why: string };

const portText = (p: { name?: string; port?: number }): string =>
  p.name ? `${p.name} ${p.port ?? "(no port)"}` : String(p.port ?? "(no port)");

/**
 * The name of the Service port `asked` means — a port's name, or its number — as the service proxy
 * resolves it; without `asked`, the Service's only port. Slice ports carry the Service port's name.
 */
export function servicePortName(
  service: V1Service,
  asked: string | undefined,
): { ok: true; name: string } | { ok: false; why: string } {
  const ports = service.spec?.ports ?? [];
  const list = ports.map(portText).join(", ") || "none";
  if (asked === undefined) {
    if (ports.length === 1) return { ok: true, name: ports[0]!.name ?? "" };
    return { ok: false, why: `the Service has ${ports.length} ports (${list}): name one` };
  }
  const found = /^\d+$/.test(asked)
    ? ports.find((p) => p.port === Number(asked))
    : ports.find((p) => (p.name ?? "") === asked);
  if (!found) return { ok: false, why: `the Service has no port ${asked} (its ports: ${list})` };
  return { ok: true, name: found.name ?? "" };
}

/**
 * The pod to send the Service's traffic for port `asked` to: the first endpoint (slices by name, then in
 * their order) that is ready — an unset `ready` counts as ready, as kube-proxy counts it — and whose
 * `targetRef` is a Pod of the Service's namespace, with the port of its slice named like the Service
 * port. An endpoint without such a targetRef is no pod the API server can proxy to.
 */
export function podEndpoint(service: V1Service, slices: readonly V1EndpointSlice[], asked?: string): EndpointChoice {
  const asPort = servicePortName(service, asked);
  if (!asPort.ok) return asPort;
  const portName = asPort.name;
  const namespace = service.metadata?.namespace;
  const shown = portName || "(unnamed)";
  if (slices.length === 0) return { ok: false, why: "it has no EndpointSlice" };
  const named = (s: V1EndpointSlice) => s.metadata?.name ?? "(unnamed)";
  const sorted = [...slices].sort((a, b) => (named(a) < named(b) ? -1 : named(a) > named(b) ? 1 : 0));
  const portOf = (s: V1EndpointSlice) =>
    s.ports?.find((p) => (p.name ?? "") === portName && typeof p.port === "number")?.port;
  let endpoints = 0;
  let notReady = 0;
  let notPod = 0;
  const withPort = sorted.filter((s) => portOf(s) !== undefined);
  if (withPort.length === 0) {
    const found = sorted.map((s) => `${named(s)}: ${(s.ports ?? []).map(portText).join(", ") || "none"}`);
    return { ok: false, why: `no EndpointSlice has a port named ${shown} (${found.join("; ")})` };
  }
  for (const slice of withPort) {
    const port = portOf(slice)!;
    for (const e of slice.endpoints ?? []) {
      endpoints++;
      if (e.conditions?.ready === false) {
        notReady++;
        continue;
      }
      const ref = e.targetRef;
      if (ref?.kind !== "Pod" || !ref.name || (ref.namespace !== undefined && ref.namespace !== namespace)) {
        notPod++;
        continue;
      }
      return { ok: true, target: { pod: ref.name, port, slice: named(slice) } };
    }
  }
  const names = withPort.map(named).join(", ");
  if (endpoints === 0) return { ok: false, why: `its EndpointSlices (${names}) have no endpoint` };
  const parts = [notReady && `${notReady} not ready`, notPod && `${notPod} not a Pod of ${namespace}`].filter(Boolean);
  return {
    ok: false,
    why: `none of the ${endpoints} endpoints of its EndpointSlices (${names}) is a ready Pod (${parts.join(", ")})`,
  };
}

/** Whether the Service has a selector: then the endpoints controller keeps its legacy Endpoints, which the service proxy reads. */
export const hasSelector = (service: V1Service): boolean => Object.keys(service.spec?.selector ?? {}).length > 0;
