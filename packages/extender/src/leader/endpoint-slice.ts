/**
 * The leader's address in a Service's EndpointSlice, as a pure decision: given the slice as last read
 * and this replica, whether to leave it, rewrite it, or refuse (a slice that cannot carry the address).
 * The Services that must reach the leader have no selector; the leader writes itself into their
 * slices, so kube-proxy routes to it alone while every replica reports ready (Deployment rollouts and
 * PodDisruptionBudgets count them). The loop that reads and writes is `leader-endpoints.ts`.
 */
import { isIPv4, isIPv6 } from "node:net";

/** This replica as an endpoint: its pod's address and, for `targetRef`/`nodeName`, its pod and node. */
export interface Self {
  ip: string;
  podName?: string;
  podNamespace?: string;
  nodeName?: string;
}

/** The fields of one `discovery.k8s.io/v1` endpoint the decision reads and writes. */
export interface SliceEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

/** A slice as read: its address family (immutable) and its endpoints. */
export interface SliceView {
  addressType: string;
  endpoints: readonly SliceEndpoint[] | undefined;
}

export type SliceDecision =
  /** It routes to this replica alone already. */
  | { action: "keep" }
  /** Replace its endpoints by these (this replica alone). */
  | { action: "write"; endpoints: SliceEndpoint[]; replaced: string[] }
  /** It cannot hold this replica's address; writing would not help. */
  | { action: "refuse"; problem: string };

/** The one endpoint the leader publishes: itself, ready. */
export function selfEndpoint(self: Self): SliceEndpoint {
  return {
    addresses: [self.ip],
    conditions: { ready: true, serving: true, terminating: false },
    ...(self.nodeName ? { nodeName: self.nodeName } : {}),
    ...(self.podName
      ? {
          targetRef: {
            kind: "Pod",
            name: self.podName,
            ...(self.podNamespace ? { namespace: self.podNamespace } : {}),
          },
        }
      : {}),
  };
}

const familyOf = (ip: string): string | undefined => (isIPv4(ip) ? "IPv4" : isIPv6(ip) ? "IPv6" : undefined);

/** Loopback and link-local addresses: EndpointSlice validation rejects them (422). */
const unroutable = (ip: string): boolean => {
  const v = ip.toLowerCase();
  return /^127\./.test(v) || /^169\.254\./.test(v) || v === "::1" || /^fe[89ab][0-9a-f]:/.test(v);
};

const sameEndpoint = (a: SliceEndpoint, b: SliceEndpoint): boolean =>
  a.addresses.length === b.addresses.length &&
  a.addresses.every((x, i) => x === b.addresses[i]) &&
  a.conditions?.ready === b.conditions?.ready &&
  a.conditions?.serving === b.conditions?.serving &&
  a.conditions?.terminating === b.conditions?.terminating &&
  a.nodeName === b.nodeName &&
  a.targetRef?.kind === b.targetRef?.kind &&
  a.targetRef?.name === b.targetRef?.name &&
  a.targetRef?.namespace === b.targetRef?.namespace;

/**
 * What the leader does with `slice`: keep it when it names this replica alone, else write this replica
 * alone (whatever it held: a dead leader's address, a late write of an old one, nothing). A slice of
 * another address family, or an address that is no IP, is refused with the reason.
 */
export function sliceDecision(slice: SliceView, self: Self): SliceDecision {
  const family = familyOf(self.ip);
  if (!family) return { action: "refuse", problem: `pod IP "${self.ip}" is not an IP address` };
  if (unroutable(self.ip)) {
    return {
      action: "refuse",
      problem: `pod IP ${self.ip} is loopback or link-local, which the API server refuses in an EndpointSlice`,
    };
  }
  if (slice.addressType !== family) {
    return {
      action: "refuse",
      problem: `the slice's addressType is ${slice.addressType}, the pod IP ${self.ip} is ${family}`,
    };
  }
  const wanted = selfEndpoint(self);
  const current = slice.endpoints ?? [];
  if (current.length === 1 && sameEndpoint(current[0]!, wanted)) return { action: "keep" };
  return { action: "write", endpoints: [wanted], replaced: current.flatMap((e) => e.addresses) };
}
