import type { V1Lease } from "@kubernetes/client-node";

/**
 * What a missing agent Lease means. `required` (default): the node fails, since nothing proves its NLS
 * is current. `optional`: a node without a Lease is trusted (open-local's agents never write one), but an
 * *expired* Lease still fails the node.
 */
export type LeaseMode = "required" | "optional";
export const LEASE_MODES: readonly LeaseMode[] = ["required", "optional"];

/** When the lease stops vouching for the agent (ms since epoch): renewTime + leaseDurationSeconds. */
export function leaseExpiry(lease: V1Lease): number | undefined {
  const renew = lease.spec?.renewTime ?? lease.spec?.acquireTime;
  const duration = lease.spec?.leaseDurationSeconds;
  if (!renew || typeof duration !== "number") return undefined;
  const t = renew instanceof Date ? renew.getTime() : Date.parse(String(renew));
  return Number.isFinite(t) ? t + duration * 1000 : undefined;
}

/**
 * Why a node's agent is not trusted, or undefined. `expiry` is undefined for a missing lease and NaN for
 * a lease without a usable renewTime/leaseDurationSeconds.
 */
export function agentProblem(
  expiry: number | undefined,
  mode: LeaseMode,
  now: number,
  leaseRef: string,
): string | undefined {
  if (expiry === undefined) {
    return mode === "required" ? `no nls agent lease ${leaseRef} (is the agent running?)` : undefined;
  }
  if (Number.isNaN(expiry)) return `nls agent lease ${leaseRef} has no renewTime/leaseDurationSeconds`;
  if (expiry < now) {
    return `nls agent lease ${leaseRef} expired ${Math.round((now - expiry) / 1000)}s ago (agent down?)`;
  }
  return undefined;
}

/** The hot-path form of `agentProblem`: true when the node's agent is trusted. */
export const agentTrusted = (expiry: number | undefined, mode: LeaseMode, now: number): boolean =>
  expiry === undefined ? mode === "optional" : expiry >= now;
