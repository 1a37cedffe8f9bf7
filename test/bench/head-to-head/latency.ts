/** One scenario's figures from the latencies of requests sent one after another on one connection. */
export interface LatencySummary {
  requests: number;
  /** Requests answered per second of the scenario's wall time. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The nearest-rank percentile (the smallest sample with at least `p` % of the samples at or below it). */
export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sortedMs.length));
  return sortedMs[rank - 1]!;
}

export function summarize(latenciesMs: readonly number[], wallSeconds: number): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    perSecond: wallSeconds > 0 ? sorted.length / wallSeconds : Number.NaN,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
  };
}
