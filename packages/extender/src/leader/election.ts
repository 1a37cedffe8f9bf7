/**
 * Leader election over a `coordination.k8s.io/v1` Lease, as a pure state machine: given the Lease as
 * last read, the clock and this replica's identity, what to do next. The loop that reads and writes the
 * Lease is `elector.ts`.
 *
 * Like client-go, expiry is judged by when *this* replica saw the holder's record change, not by the
 * `renewTime` written in it, so clock skew between replicas cannot make a standby take over early.
 */

/** The fields of a Lease the election reads and writes. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions: number;
}

export interface ElectionTiming {
  /** How long a standby waits after last seeing the record change before it takes over. */
  leaseDurationMs: number;
  /** How long the leader keeps serving without a successful renewal; below leaseDurationMs. */
  renewDeadlineMs: number;
  /** How often every replica reads (and the leader renews) the Lease. */
  retryPeriodMs: number;
}

/** What this replica remembers between reads: the holder's record and when it last saw it change. */
export interface Observation {
  key: string;
  seenAt: number;
}

export type Decision =
  /** No Lease exists: create it, holding it. */
  | { action: "create"; record: LeaseRecord }
  /** This replica holds it: write a new renewTime. */
  | { action: "renew"; record: LeaseRecord }
  /** Free, released or expired: take it over (a transition). */
  | { action: "acquire"; record: LeaseRecord }
  /** Another replica holds it and has renewed recently. */
  | { action: "standby"; holder: string; expiresInMs: number };

const recordKey = (r: LeaseRecord): string =>
  `${r.holderIdentity}|${r.renewTime?.getTime() ?? ""}|${r.acquireTime?.getTime() ?? ""}|${r.leaseTransitions}|${r.leaseDurationSeconds}`;

/**
 * The next step for `identity` given the Lease as read (`undefined`: it does not exist). Returns the
 * decision and what to remember for the next call.
 */
export function decide(
  current: LeaseRecord | undefined,
  seen: Observation | undefined,
  now: number,
  identity: string,
  timing: ElectionTiming,
): { decision: Decision; seen: Observation | undefined } {
  const durationSeconds = Math.ceil(timing.leaseDurationMs / 1000);
  const at = new Date(now);
  if (!current) {
    const record = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: at,
      renewTime: at,
      leaseTransitions: 0,
    };
    return { decision: { action: "create", record }, seen: undefined };
  }
  if (current.holderIdentity === identity) {
    const record = { ...current, leaseDurationSeconds: durationSeconds, renewTime: at };
    return { decision: { action: "renew", record }, seen: undefined };
  }
  const key = recordKey(current);
  const observed = seen?.key === key ? seen : { key, seenAt: now };
  // The holder's own duration counts: it promised to renew within it, not within ours.
  const expiresAt = observed.seenAt + Math.max(current.leaseDurationSeconds, 0) * 1000;
  if (current.holderIdentity !== "" && expiresAt > now) {
    return {
      decision: { action: "standby", holder: current.holderIdentity, expiresInMs: expiresAt - now },
      seen: observed,
    };
  }
  const record = {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: at,
    renewTime: at,
    leaseTransitions: current.leaseTransitions + 1,
  };
  return { decision: { action: "acquire", record }, seen: undefined };
}

/**
 * Whether the leader may still answer: only while its last successful write is younger than the renew
 * deadline. A standby takes over no sooner than a lease duration after it saw that write, so with
 * renewDeadline < leaseDuration the old leader has stopped answering first.
 */
export const stillLeading = (lastRenewedAt: number | undefined, now: number, timing: ElectionTiming): boolean =>
  lastRenewedAt !== undefined && now - lastRenewedAt < timing.renewDeadlineMs;

/** The record a leader writes when it steps down, so a standby takes over at its next read. */
export const released = (current: LeaseRecord, now: number): LeaseRecord => ({
  ...current,
  holderIdentity: "",
  leaseDurationSeconds: 1,
  renewTime: new Date(now),
});

/** Checks the relation between the three durations; returns what is wrong or undefined. */
export function timingProblem(t: ElectionTiming): string | undefined {
  if (t.leaseDurationMs < 1000) return "--leader-elect-lease-duration must be at least 1s";
  if (t.renewDeadlineMs >= t.leaseDurationMs) {
    return "--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline";
  }
  if (t.retryPeriodMs <= 0 || t.retryPeriodMs * 1.2 >= t.renewDeadlineMs) {
    return "--leader-elect-renew-deadline must be greater than 1.2 × --leader-elect-retry-period";
  }
  return undefined;
}
