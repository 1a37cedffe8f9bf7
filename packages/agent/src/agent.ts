import type { Logger } from "@nls/daemon";
import type { HostPort } from "./host-port.js";
import type { AgentKubeClient, NodeRef } from "./kube/client.js";
import { EventRecorder } from "./loop/event-recorder.js";
import { InitTracker } from "./loop/init-tracker.js";
import { LeaseKeeper } from "./loop/lease-keeper.js";
import { NlsCreator } from "./loop/nls-creator.js";
import { NlsWatch } from "./loop/nls-watch.js";
import { Reconciler, type ReconcileResult } from "./loop/reconcile.js";
import { Wakeup } from "./loop/timing.js";
import type { AgentMetrics } from "./metrics.js";
import { DISCOVERY_FAILED } from "./report.js";

/**
 * The agent: its loop's parts (`loop/`) wired together and run. Everything outside the process comes in
 * through `AgentDeps` (the Kubernetes client, the host, the clock), so the whole behaviour runs in tests
 * against fakes.
 */

export interface AgentConfig {
  nodeName: string;
  /** The NodeLocalStorageInitConfig a missing NLS is created from. */
  initConfigName: string;
  /** Namespace of the Lease `nls-agent-<node>`. */
  leaseNamespace: string;
  /** Namespace of the Events about the NLS (the API server accepts only `kube-system` and `default`). */
  eventNamespace: string;
  intervalMs: number;
  leaseDurationSeconds: number;
  leaseRenewMs: number;
  /** First retry delay after a failed VG or mount point init; doubles per failure up to `initBackoffMaxMs`. */
  initBackoffBaseMs: number;
  initBackoffMaxMs: number;
  /** Status writes attempted per reconcile before giving up on conflicts until the next one. */
  maxStatusAttempts: number;
  /** Delay before a watch that ended is started again. */
  watchRestartMs: number;
  /**
   * A reconcile running longer than this counts as a wedged loop: the Lease is no longer renewed, so
   * the agent looks dead (which it is, for its node's status) rather than quiet.
   */
  stuckAfterMs: number;
  /**
   * The Lease is renewed only while the last complete reconcile (host fully read, status written) is at
   * most this old: an agent that cannot read LVM or write its status must not vouch for frozen capacities.
   */
  staleAfterMs: number;
  /** A watch older than this is replaced by a fresh one (a half-dead connection may never end). */
  watchMaxAgeMs: number;
}

export const DEFAULT_AGENT_CONFIG: Omit<
  AgentConfig,
  "nodeName" | "initConfigName" | "leaseNamespace" | "eventNamespace"
> = {
  intervalMs: 60_000,
  leaseDurationSeconds: 40,
  leaseRenewMs: 10_000,
  initBackoffBaseMs: 60_000,
  initBackoffMaxMs: 30 * 60_000,
  maxStatusAttempts: 5,
  watchRestartMs: 5_000,
  // Host commands time out after 30 s and API calls after 30 s, so a healthy pass is far shorter.
  stuckAfterMs: 10 * 60_000,
  staleAfterMs: staleBound(60_000),
  watchMaxAgeMs: 5 * 60_000,
};

/**
 * How old the last complete reconcile may be before the Lease lapses: three scan intervals, and never less
 * than 5 minutes, so that one or two failed passes (an LVM lock timeout, an API server restart) do not
 * take a node out of scheduling.
 */
export function staleBound(intervalMs: number): number {
  return Math.max(3 * intervalMs, 5 * 60_000);
}

export interface AgentDeps<F> {
  kube: AgentKubeClient;
  host: HostPort<F>;
  metrics: AgentMetrics;
  log: Logger;
  clock?: () => Date;
  config: AgentConfig;
}

export class Agent<F> {
  readonly config: AgentConfig;
  private readonly metrics: AgentMetrics;
  private readonly log: Logger;
  private readonly clock: () => Date;
  private readonly reconciler: Reconciler<F>;
  private readonly lease: LeaseKeeper;
  private readonly watch: NlsWatch;
  private readonly wakeup = new Wakeup();

  private readyFlag = false;
  /** When the running reconcile started (clock ms); `undefined` between reconciles. */
  private stepStartedAt: number | undefined;
  /** When the last complete reconcile ended (clock ms); until the first, when the agent was made. */
  private lastCompleteAt: number;

  constructor(deps: AgentDeps<F>) {
    const { kube, host, metrics, log, config } = deps;
    const clock = deps.clock ?? (() => new Date());
    this.config = config;
    this.metrics = metrics;
    this.log = log;
    this.clock = clock;
    this.lastCompleteAt = clock().getTime();
    // Read afresh each time an owner is needed (only when the NLS or the Lease is missing): a Node that was
    // deleted and registered again has a new UID, and an owner reference to the old one gets the new
    // NLS and Lease garbage-collected at once.
    const node = (): Promise<NodeRef> => kube.getNode(config.nodeName);
    const events = new EventRecorder(kube, config.eventNamespace, metrics, log);
    this.reconciler = new Reconciler(
      {
        kube,
        host,
        creator: new NlsCreator({ kube, node, events, metrics, log }, config.nodeName, config.initConfigName),
        init: new InitTracker(
          { host, events, metrics, log, clock },
          { baseMs: config.initBackoffBaseMs, maxMs: config.initBackoffMaxMs },
        ),
        metrics,
        log,
        clock,
      },
      config.nodeName,
      config.maxStatusAttempts,
    );
    this.lease = new LeaseKeeper(
      { kube, node, busySince: () => this.stepStartedAt, lastComplete: () => this.lastCompleteAt, metrics, log, clock },
      {
        nodeName: config.nodeName,
        namespace: config.leaseNamespace,
        durationSeconds: config.leaseDurationSeconds,
        renewMs: config.leaseRenewMs,
        stuckAfterMs: config.stuckAfterMs,
        staleAfterMs: config.staleAfterMs,
      },
    );
    this.watch = new NlsWatch(
      kube,
      log,
      { nodeName: config.nodeName, restartMs: config.watchRestartMs, maxAgeMs: config.watchMaxAgeMs },
      (type, obj) => {
        if (this.reconciler.changedSinceLastPass(type === "DELETED" ? undefined : obj)) {
          log.info({ event: type }, "NodeLocalStorage spec changed; reconciling now");
          this.wakeup.trigger();
        }
      },
    );
  }

  /** True once a reconcile has completed. */
  get ready(): boolean {
    return this.readyFlag;
  }

  /**
   * One pass: make sure the NLS exists, discover, initialise what the spec asks for, and write the
   * status only if its content changed.
   */
  async reconcile(): Promise<ReconcileResult> {
    const result = await this.reconciler.reconcile();
    this.readyFlag = true;
    return result;
  }

  /** Creates or renews the Lease `nls-agent-<node>` so readers can tell a live agent from a dead one. */
  renewLease(): Promise<void> {
    return this.lease.renew();
  }

  /** Wakes the loop now instead of at the end of the interval. */
  trigger(): void {
    this.wakeup.trigger();
  }

  /**
   * Runs until `signal` aborts: reconcile every interval and on spec changes, renew the Lease, keep a
   * watch on the NLS. An abort lets the current reconcile finish; then it returns.
   */
  async run(signal: AbortSignal): Promise<void> {
    const watching = this.watch.keepWatching(signal);
    const renewing = this.lease.keepRenewing(signal);
    while (!signal.aborted) {
      await this.step();
      await this.wakeup.wait(this.config.intervalMs, signal);
    }
    await Promise.all([watching, renewing]);
  }

  /** One reconcile with its timing, metrics and logging; never throws. */
  async step(): Promise<ReconcileResult | undefined> {
    const stopTimer = this.metrics.scanDuration.startTimer();
    this.stepStartedAt = this.clock().getTime();
    try {
      const r = await this.reconcile();
      if (r.status.nodeStorageInfo?.state?.reason === DISCOVERY_FAILED) {
        // The status went out flagged, with the last known capacities; it is not a fresh picture.
        this.metrics.reconcileErrors.inc();
        this.log.warn(
          { stateMessage: r.status.nodeStorageInfo.state.message },
          "reconcile incomplete: the host could not be read",
        );
        return r;
      }
      this.lastCompleteAt = this.clock().getTime();
      this.metrics.lastSuccess.set(this.lastCompleteAt / 1000);
      // An intent to create was just stored: create now rather than an interval later.
      if (r.createNext) this.wakeup.trigger();
      // A steady node logs nothing above debug: one line per change, not one per scan.
      this.log[r.wroteStatus || r.createdNls ? "info" : "debug"](
        {
          wroteStatus: r.wroteStatus,
          createdNls: r.createdNls,
          vgs: r.status.nodeStorageInfo?.volumeGroups?.length ?? 0,
        },
        "reconciled",
      );
      return r;
    } catch (err) {
      this.metrics.reconcileErrors.inc();
      this.log.error({ err }, "reconcile failed; retrying at the next interval");
      return undefined;
    } finally {
      this.stepStartedAt = undefined;
      stopTimer();
    }
  }
}
