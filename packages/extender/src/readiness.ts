import { feedProblem, type FeedHealth } from "./cache/feed-health.js";

/** One line of `/readyz?verbose`: a named check, what is wrong with it if anything, and a note. */
export interface ReadyCheck {
  name: string;
  problem: string | undefined;
  info?: string;
}

export interface ReadinessInput {
  stopping: boolean;
  /**
   * With leader election, what this replica is now ("leader", or why it does not serve). Shown, never
   * failing: ready means "could serve if it led", so a standby is ready and a rollout or a drain may
   * count on it. Routing to the leader alone is the Service's EndpointSlice's job.
   */
  role: string | undefined;
  feeds: readonly FeedHealth[];
  now: number;
}

/** Every check `/readyz` makes, in the order it reports them. */
export function readinessChecks(input: ReadinessInput): ReadyCheck[] {
  return [
    { name: "shutdown", problem: input.stopping ? "shutting down" : undefined },
    ...(input.role === undefined ? [] : [{ name: "role", problem: undefined, info: input.role }]),
    ...input.feeds.map((f) => ({ name: `watch ${f.kind}`, problem: feedProblem(f, input.now) })),
  ];
}

/** The reason `/readyz` gives for a 503: the first failing check; the caches' problems are joined. */
export function notReadyReason(checks: readonly ReadyCheck[]): string | undefined {
  const failing = checks.filter((c) => c.problem !== undefined);
  if (failing.length === 0) return undefined;
  const first = failing[0]!;
  if (!first.name.startsWith("watch ")) return first.problem;
  const caches = failing.filter((c) => c.name.startsWith("watch ")).map((c) => c.problem);
  return `caches not ready: ${caches.join("; ")}`;
}

/** kube-apiserver's `/readyz?verbose` format: `[+]name ok` or `[-]name failed: why`, then the verdict. */
export function renderVerbose(checks: readonly ReadyCheck[]): string {
  const lines = checks.map((c) =>
    c.problem === undefined ? `[+]${c.name} ok${c.info ? `: ${c.info}` : ""}` : `[-]${c.name} failed: ${c.problem}`,
  );
  const ready = checks.every((c) => c.problem === undefined);
  return `${lines.join("\n")}\nreadyz check ${ready ? "passed" : "failed"}\n`;
}
