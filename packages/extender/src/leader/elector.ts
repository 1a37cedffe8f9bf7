import type { Logger } from "@nls/daemon";
import { decide, released, stillLeading, type ElectionTiming, type LeaseRecord, type Observation } from "./election.js";

/** The Lease as stored: its record and the resourceVersion a write must match. */
export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/**
 * A write refused because the Lease changed since it was read (HTTP 409: created or updated by another
 * replica first). Not a failure: the other replica's write is the answer.
 */
export class LeaseWriteConflict extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LeaseWriteConflict";
  }
}

/** Reads and writes the one election Lease; a write on a stale resourceVersion rejects with LeaseWriteConflict. */
export interface LeaseStore {
  readonly ref: string;
  read(): Promise<StoredLease | undefined>;
  create(record: LeaseRecord): Promise<StoredLease>;
  update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
}

/**
 * Runs the election: every retry period it reads the Lease and creates, renews or takes it over, or
 * stands by. `leading()` is true only within the renew deadline of the last successful write, however
 * long the API takes to answer — so a leader cut off from the API stops answering before any standby
 * may take over.
 */
export class LeaderElector {
  private lastRenewedAt: number | undefined;
  private seen: Observation | undefined;
  private lease: StoredLease | undefined;
  private holder = "";
  private wasLeading = false;
  /** Counts acquisitions: a hook can tell a new term from a renewal of the same one. */
  private term = 0;
  /** Runs after every successful write of the Lease (not awaited; it must not delay renewals). */
  onLeading: ((term: number) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LeaseStore,
    readonly identity: string,
    private readonly timing: ElectionTiming,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  leading(): boolean {
    const leading = stillLeading(this.lastRenewedAt, this.now(), this.timing);
    if (this.wasLeading && !leading) {
      this.wasLeading = false;
      this.log.error(
        { lease: this.store.ref, identity: this.identity, renewDeadlineMs: this.timing.renewDeadlineMs },
        "lost the leader lease: no renewal within the renew deadline; not serving",
      );
    }
    return leading;
  }

  /** The current term while leading, else undefined. */
  leadingTerm(): number | undefined {
    return this.leading() ? this.term : undefined;
  }

  /** Why this replica does not serve, or undefined when it leads. */
  standbyReason(): string | undefined {
    if (this.leading()) return undefined;
    if (this.holder && this.holder !== this.identity) {
      return `standby: lease ${this.store.ref} is held by ${this.holder}`;
    }
    return `not the leader: lease ${this.store.ref} not acquired or not renewed within the renew deadline`;
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.timing.retryPeriodMs);
      });
    };
    loop();
  }

  /** One read-decide-write round; errors are logged and retried at the next round. */
  async tick(): Promise<void> {
    const startedAt = this.now();
    // Notes a lapse since the last round, so a renewal after it starts a new term.
    this.leading();
    try {
      this.lease = await this.store.read();
      const { decision, seen } = decide(this.lease?.record, this.seen, startedAt, this.identity, this.timing);
      this.seen = seen;
      if (decision.action === "standby") {
        this.holder = decision.holder;
        return;
      }
      this.lease = this.lease
        ? await this.store.update(decision.record, this.lease.resourceVersion)
        : await this.store.create(decision.record);
      this.holder = this.identity;
      // The write was sent after startedAt, so no standby can have seen it earlier: counting the
      // deadline from startedAt errs on the side of stopping too soon.
      this.lastRenewedAt = startedAt;
      if (!this.wasLeading) {
        this.wasLeading = true;
        this.term++;
        this.log.info(
          { lease: this.store.ref, identity: this.identity, transitions: decision.record.leaseTransitions },
          decision.action === "renew" ? "leading again" : "became the leader",
        );
      }
      this.onLeading?.(this.term);
    } catch (err) {
      if (err instanceof LeaseWriteConflict) {
        await this.learnHolder(startedAt);
        return;
      }
      this.log.warn(
        { err, lease: this.store.ref, identity: this.identity },
        "leader lease not read or written; retrying",
      );
    }
  }

  /**
   * After losing a write race (two replicas starting together both create the Lease): reads the
   * winner's write at once, so the reason this replica stands by names the holder now rather than at
   * the next retry period. It writes nothing; the next round decides as usual.
   */
  private async learnHolder(startedAt: number): Promise<void> {
    try {
      this.lease = await this.store.read();
      const { decision, seen } = decide(this.lease?.record, this.seen, startedAt, this.identity, this.timing);
      this.seen = seen;
      if (decision.action === "standby") this.holder = decision.holder;
      this.log.info(
        { lease: this.store.ref, identity: this.identity, holder: this.holder || undefined },
        "another replica wrote the leader lease first; standing by",
      );
    } catch (err) {
      this.log.warn({ err, lease: this.store.ref, identity: this.identity }, "leader lease not read; retrying");
    }
  }

  /** Stops the loop; a leader releases the Lease so a standby takes over at its next read. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    const lease = this.lease;
    if (!lease || !this.leading()) return;
    this.lastRenewedAt = undefined;
    this.wasLeading = false;
    try {
      await this.store.update(released(lease.record, this.now()), lease.resourceVersion);
      this.log.info({ lease: this.store.ref, identity: this.identity }, "released the leader lease");
    } catch (err) {
      this.log.warn({ err, lease: this.store.ref }, "leader lease not released; a standby takes over when it expires");
    }
  }
}
