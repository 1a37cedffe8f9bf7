import type { Attempt } from "../e2e/open-local-csi.js";

/** The stand-in provisioner's CreateVolume attempts in one scenario: how smooth its PV path was. */
export interface ProvisioningSummary {
  created: number;
  retry: number;
  reschedule: number;
  /** The failure message seen most often (ties: the first seen), with its count; none without failures. */
  commonestFailure?: { message: string; count: number };
}

export function summarizeAttempts(attempts: readonly Attempt[]): ProvisioningSummary {
  const summary: ProvisioningSummary = { created: 0, retry: 0, reschedule: 0 };
  const failures = new Map<string, number>();
  for (const a of attempts) {
    summary[a.outcome]++;
    if (a.outcome !== "created") failures.set(a.message, (failures.get(a.message) ?? 0) + 1);
  }
  for (const [message, count] of failures)
    if (count > (summary.commonestFailure?.count ?? 0)) summary.commonestFailure = { message, count };
  return summary;
}
