import type { Logger } from "@nls/daemon";
import { sliceDecision, type Self, type SliceEndpoint, type SliceView } from "./endpoint-slice.js";

/** A slice as read, with the resourceVersion a write must match. */
export interface StoredSlice {
  view: SliceView;
  resourceVersion: string;
}

/** Reads and writes the leader's EndpointSlices by name; a write on a stale resourceVersion rejects (409). */
export interface SliceStore {
  ref(name: string): string;
  read(name: string): Promise<StoredSlice>;
  writeEndpoints(name: string, endpoints: SliceEndpoint[], resourceVersion: string): Promise<StoredSlice>;
}

/**
 * Keeps the named EndpointSlices pointing at this replica while it leads. `publish(term)` runs after
 * every successful write of the Lease (acquisition and each renewal): it reads each slice, rewrites it
 * when it names anything but this replica, and remembers the term for which every slice was found or
 * written right. Until then `problem(term)` says why this replica does not serve yet: a new leader
 * answers only once the Services route to it, and its re-assertions every retry period undo a late
 * write of an old leader.
 */
export class LeaderEndpoints {
  private publishedTerm: number | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: SliceStore,
    readonly names: readonly string[],
    private readonly self: Self,
    private readonly log: Logger,
    /** Asked right before each write: a replica that no longer leads writes nothing. */
    private readonly leading: () => boolean,
  ) {}

  /** Why this replica, leading in `term`, does not serve yet; undefined once every slice names it. */
  problem(term: number | undefined): string | undefined {
    if (this.names.length === 0 || (term !== undefined && this.publishedTerm === term)) return undefined;
    return `leading, but the EndpointSlices ${this.names.map((n) => this.store.ref(n)).join(", ")} do not name this replica (${this.self.ip}) yet`;
  }

  /** Starts a round for `term` unless one is running (a slow API must not stack rounds up). */
  publishInBackground(term: number): void {
    if (this.running) return;
    this.running = this.publish(term).finally(() => (this.running = undefined));
  }

  /** One round over every slice; errors are logged and the next round tries again. */
  async publish(term: number): Promise<void> {
    let allRight = true;
    for (const name of this.names) {
      try {
        allRight = (await this.assertOne(name)) && allRight;
      } catch (err) {
        allRight = false;
        this.log.warn({ err, slice: this.store.ref(name) }, "leader endpoint not read or written; retrying");
      }
    }
    if (allRight) this.publishedTerm = term;
  }

  /** Waits for the round in progress, if any. */
  async settled(): Promise<void> {
    await this.running;
  }

  private async assertOne(name: string): Promise<boolean> {
    // A conflict means another writer got in between: decide again on what it wrote.
    for (let attempt = 0; ; attempt++) {
      const slice = await this.store.read(name);
      const decision = sliceDecision(slice.view, this.self);
      if (decision.action === "keep") return true;
      if (decision.action === "refuse") {
        this.log.error({ slice: this.store.ref(name), problem: decision.problem }, "leader endpoint cannot be written");
        return false;
      }
      if (!this.leading()) return false;
      try {
        await this.store.writeEndpoints(name, decision.endpoints, slice.resourceVersion);
        this.log.info(
          { slice: this.store.ref(name), ip: this.self.ip, replaced: decision.replaced },
          "leader endpoint written",
        );
        return true;
      } catch (err) {
        if (attempt > 0 || !isConflict(err)) throw err;
      }
    }
  }
}

const isConflict = (err: unknown): boolean =>
  typeof err === "object" && err !== null && (err as { code?: unknown }).code === 409;
