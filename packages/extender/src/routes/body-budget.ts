/**
 * The bytes of request bodies held in memory at once, across all requests. Each body is also capped by
 * `--max-body-bytes`; without a shared cap, many large bodies at once (a misbehaving client, or many
 * scheduler profiles) would push a normal filter past kube-scheduler's timeout and the process past its
 * memory limit. A request is refused at once (503) rather than queued: queued bodies sit in memory too.
 */
export class BodyBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  /** Holds `bytes` more if they fit; false (and nothing held) if they do not. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  get inUse(): number {
    return this.held;
  }
}
