import {
  API_VERSION,
  NLS_KIND,
  leaseNameForNode,
  nodeSpecFromInitConfig,
  type NodeLocalStorage,
  type NodeLocalStorageSpec,
  type NodeLocalStorageStatus,
  type ResourceToBeInited,
} from "@nls/api";
import {
  isConflict,
  isNotFound,
  type AgentEvent,
  type AgentKubeClient,
  type Lease,
  type NodeRef,
  type WatchHandle,
} from "./kube/client.js";
import type { Logger } from "@nls/daemon";
import type { InitOutcome, MountpointOutcome } from "./init/apply.js";
import type { AgentMetrics } from "./metrics.js";
import { stampStatus, statusChanged } from "./status.js";

/**
 * The agent's reconcile step and loop. Everything outside the process comes in through `AgentDeps`
 * (the Kubernetes client, the host, the clock), so the whole behaviour runs in tests against fakes.
 */

/** What initialising `resourceToBeInited` did, per VG and per mount point (`init/apply.ts`). */
export interface InitOutcomes {
  vgs: InitOutcome[];
  mountpoints: MountpointOutcome[];
}

/** One VG or mount point of `resourceToBeInited` and what happened to it, in one shape for both. */
export interface InitTargetOutcome {
  kind: "vg" | "mountpoint";
  /** VG name or mount path. */
  name: string;
  /** Key of its backoff and event history: `vg:<name>` or `mountpoint:<path>`. */
  subject: string;
  /** How messages name it: `VG <name>` or `mount point <path>`. */
  label: string;
  result: InitOutcome["result"] | MountpointOutcome["result"];
  reason?: string;
  /** Where it was made: `on /dev/vdb, /dev/vdc` or `from /dev/vdd`. */
  detail: string;
}

const CONFIG_SUBJECT = "config";
const vgSubject = (name: string) => `vg:${name}`;
const mountpointSubject = (path: string) => `mountpoint:${path}`;

const fromVgOutcome = (o: InitOutcome): InitTargetOutcome => ({
  kind: "vg",
  name: o.vg,
  subject: vgSubject(o.vg),
  label: `VG ${o.vg}`,
  result: o.result,
  ...(o.reason !== undefined ? { reason: o.reason } : {}),
  detail: `on ${o.devices.join(", ")}`,
});

const fromMountpointOutcome = (o: MountpointOutcome): InitTargetOutcome => ({
  kind: "mountpoint",
  name: o.path,
  subject: mountpointSubject(o.path),
  label: `mount point ${o.path}`,
  result: o.result,
  ...(o.reason !== undefined ? { reason: o.reason } : {}),
  detail: `from ${o.device}`,
});

/** What the agent needs from the host, over whatever facts discovery produces. */
export interface HostPort<F> {
  discover(): Promise<F>;
  /** Plans and applies `toInit` against `facts`; refusals are outcomes, not exceptions. */
  init(toInit: ResourceToBeInited, facts: F): Promise<InitOutcomes>;
  buildStatus(
    facts: F,
    nls: { spec?: NodeLocalStorageSpec; annotations?: Record<string, string> },
    now: Date,
    previous: NodeLocalStorageStatus | undefined,
    initProblems: string[],
  ): NodeLocalStorageStatus;
  /** LVM/host commands that failed during the scan that produced `facts`. */
  commandErrors(facts: F): number;
}

export interface AgentConfig {
  nodeName: string;
  /** The NodeLocalStorageInitConfig a missing NLS is created from. */
  initConfigName: string;
  /** Namespace of the Lease and of the Events. */
  leaseNamespace: string;
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
  /** A watch older than this is replaced by a fresh one (a half-dead connection may never end). */
  watchMaxAgeMs: number;
}

export const DEFAULT_AGENT_CONFIG: Omit<AgentConfig, "nodeName" | "initConfigName" | "leaseNamespace"> = {
  intervalMs: 60_000,
  leaseDurationSeconds: 40,
  leaseRenewMs: 10_000,
  initBackoffBaseMs: 60_000,
  initBackoffMaxMs: 30 * 60_000,
  maxStatusAttempts: 5,
  watchRestartMs: 5_000,
  // Host commands time out after 30 s and API calls after 30 s, so a healthy pass is far shorter.
  stuckAfterMs: 10 * 60_000,
  watchMaxAgeMs: 5 * 60_000,
};

export interface AgentDeps<F> {
  kube: AgentKubeClient;
  host: HostPort<F>;
  metrics: AgentMetrics;
  log: Logger;
  clock?: () => Date;
  config: AgentConfig;
}

export interface ReconcileResult {
  createdNls: boolean;
  wroteStatus: boolean;
  status: NodeLocalStorageStatus;
  initOutcomes: InitTargetOutcome[];
}

/** Delay before retry number `failures` (1-based) of a failed init: base·2^(n−1), capped. */
export function initBackoffMs(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  // Beyond 2^30 the cap has long applied; stop the exponent before it overflows to Infinity.
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}

interface InitFailure {
  failures: number;
  retryAt: number;
  reason: string;
}

/** The part of an NLS whose change means "reconcile now": spec and annotations (storage-reserved). */
const triggerKey = (nls: NodeLocalStorage | undefined): string =>
  JSON.stringify([nls?.metadata.uid ?? null, nls?.spec ?? null, nls?.metadata.annotations ?? null]);

export class Agent<F> {
  private readonly kube: AgentKubeClient;
  private readonly host: HostPort<F>;
  private readonly metrics: AgentMetrics;
  private readonly log: Logger;
  private readonly clock: () => Date;
  readonly config: AgentConfig;

  private readyFlag = false;
  private nodeRef: NodeRef | undefined;
  private lease: Lease | undefined;
  /** Last event key per subject (VG or config), so a repeated refusal is recorded once. */
  private readonly lastEvent = new Map<string, string>();
  private readonly initFailures = new Map<string, InitFailure>();
  private lastSpecKey: string | undefined;
  /** When the running reconcile started (clock ms); `undefined` between reconciles. */
  private stepStartedAt: number | undefined;
  private readonly wakeup = new Wakeup();

  constructor(deps: AgentDeps<F>) {
    this.kube = deps.kube;
    this.host = deps.host;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.clock = deps.clock ?? (() => new Date());
    this.config = deps.config;
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
    const name = this.config.nodeName;
    const ensured = await this.ensureNls();
    const created = ensured.created;
    let nls = ensured.nls;
    const specKey = triggerKey(nls);
    if (this.lastSpecKey !== undefined && this.lastSpecKey !== specKey) {
      // The user edited the NLS (perhaps what to initialise): retry failed VGs now, not after the backoff.
      this.initFailures.clear();
    }
    this.lastSpecKey = specKey;

    let facts = await this.host.discover();
    this.metrics.lvmCommandErrors.inc(this.host.commandErrors(facts));

    const { outcomes, problems, createdAny } = await this.initialise(nls, facts);
    if (createdAny) {
      // A new VG changes the picture; report it in this pass, not the next.
      facts = await this.host.discover();
      this.metrics.lvmCommandErrors.inc(this.host.commandErrors(facts));
    }

    let wrote = false;
    let status: NodeLocalStorageStatus;
    for (let attempt = 1; ; attempt++) {
      const now = this.clock();
      const built = this.host.buildStatus(
        facts,
        { spec: nls.spec, annotations: nls.metadata.annotations },
        now,
        nls.status,
        problems,
      );
      status = stampStatus(nls.status, built, now);
      if (!statusChanged(nls.status, status)) break;
      try {
        nls = await this.kube.replaceNlsStatus({ ...nls, status });
        this.metrics.countWrite("nls_status", "ok");
        wrote = true;
        break;
      } catch (err) {
        if (!isConflict(err)) {
          this.metrics.countWrite("nls_status", "error");
          throw err;
        }
        this.metrics.countWrite("nls_status", "conflict");
        if (attempt >= this.config.maxStatusAttempts) {
          throw new Error(
            `status of NodeLocalStorage "${name}": still conflicting after ${attempt} attempts; giving up until the next reconcile`,
            { cause: err },
          );
        }
        this.log.debug({ attempt }, "status write conflicted; re-reading the NodeLocalStorage");
        const fresh = await this.kube.getNls(name);
        if (!fresh) throw new Error(`NodeLocalStorage "${name}" was deleted during the status update`);
        nls = fresh;
      }
    }

    this.metrics.observeStatus(name, status);
    this.readyFlag = true;
    return { createdNls: created, wroteStatus: wrote, status, initOutcomes: outcomes };
  }

  /** Creates or renews the Lease `nls-agent-<node>` so readers can tell a live agent from a dead one. */
  async renewLease(): Promise<void> {
    const { nodeName: node, leaseNamespace: namespace } = this.config;
    const name = leaseNameForNode(node);
    const now = this.clock();
    if (this.stepStartedAt !== undefined && now.getTime() - this.stepStartedAt > this.config.stuckAfterMs) {
      throw new Error(
        `not renewing the lease: the current reconcile has been running for ${Math.round((now.getTime() - this.stepStartedAt) / 1000)}s`,
      );
    }
    try {
      const current = this.lease ?? (await this.kube.getLease(namespace, name));
      if (!current) {
        const owner = await this.node().catch((err: unknown) => {
          this.log.warn({ err }, "cannot read the Node; creating the Lease without an owner");
          return undefined;
        });
        this.lease = await this.kube.createLease({
          namespace,
          name,
          holderIdentity: node,
          leaseDurationSeconds: this.config.leaseDurationSeconds,
          acquireTime: now,
          renewTime: now,
          ...(owner ? { owner } : {}),
        });
      } else {
        const takeover = current.holderIdentity !== node;
        this.lease = await this.kube.replaceLease({
          ...current,
          holderIdentity: node,
          leaseDurationSeconds: this.config.leaseDurationSeconds,
          acquireTime: takeover ? now : (current.acquireTime ?? now),
          renewTime: now,
        });
      }
      this.metrics.countWrite("lease", "ok");
    } catch (err) {
      // Re-read next time: the cached copy is stale (409), gone (404), or unknown.
      this.lease = undefined;
      this.metrics.countWrite("lease", isConflict(err) ? "conflict" : "error");
      throw err;
    }
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
    const watch = this.keepWatching(signal);
    const leases = this.keepRenewingLease(signal);
    while (!signal.aborted) {
      await this.step();
      await this.wakeup.wait(this.config.intervalMs, signal);
    }
    await Promise.all([watch, leases]);
  }

  /** One reconcile with its timing, metrics and logging; never throws. */
  async step(): Promise<ReconcileResult | undefined> {
    const stopTimer = this.metrics.scanDuration.startTimer();
    this.stepStartedAt = this.clock().getTime();
    try {
      const r = await this.reconcile();
      this.metrics.lastSuccess.set(this.clock().getTime() / 1000);
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

  private async keepRenewingLease(signal: AbortSignal): Promise<void> {
    let failing = false;
    while (!signal.aborted) {
      try {
        await this.renewLease();
        if (failing) this.log.info("lease renewed again");
        failing = false;
      } catch (err) {
        // Log the first failure of a run of failures, not every one of them.
        if (!failing) this.log.warn({ err }, "renewing the lease failed; retrying");
        failing = true;
      }
      await sleep(this.config.leaseRenewMs, signal);
    }
  }

  private async keepWatching(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let handle: WatchHandle | undefined;
      let closed = false;
      let finish!: (err?: unknown) => void;
      const ended = new Promise<unknown>((resolve) => (finish = resolve));
      const onAbort = () => finish();
      signal.addEventListener("abort", onAbort, { once: true });
      // A connection that died without a FIN never ends the watch: renew it now and then regardless.
      const renew = setTimeout(() => finish(RENEW_WATCH), this.config.watchMaxAgeMs);
      try {
        this.kube
          .watchNls(this.config.nodeName, (type, obj) => this.onWatchEvent(type, obj), finish)
          .then((h) => {
            handle = h;
            // The watch may have been given up on before it was established.
            if (closed) h.stop();
          }, finish);
        const err = await ended;
        if (signal.aborted) return;
        if (err === RENEW_WATCH) continue;
        this.log.debug({ err }, "watch on the NodeLocalStorage ended; restarting");
      } finally {
        clearTimeout(renew);
        closed = true;
        signal.removeEventListener("abort", onAbort);
        handle?.stop();
      }
      await sleep(this.config.watchRestartMs, signal);
    }
  }

  private onWatchEvent(type: string, obj: NodeLocalStorage): void {
    const key = triggerKey(type === "DELETED" ? undefined : obj);
    if (this.lastSpecKey !== undefined && key !== this.lastSpecKey) {
      this.log.info({ event: type }, "NodeLocalStorage spec changed; reconciling now");
      this.wakeup.trigger();
    }
  }

  private async node(): Promise<NodeRef> {
    this.nodeRef ??= await this.kube.getNode(this.config.nodeName);
    return this.nodeRef;
  }

  private async ensureNls(): Promise<{ nls: NodeLocalStorage; created: boolean }> {
    const name = this.config.nodeName;
    const existing = await this.kube.getNls(name);
    if (existing) return { nls: existing, created: false };

    const node = await this.node().catch((err: unknown) => {
      if (isNotFound(err)) throw new Error(`Node "${name}" does not exist: is --node-name right?`, { cause: err });
      throw err;
    });
    const initConfig = await this.kube.getInitConfig(this.config.initConfigName);
    if (!initConfig) {
      this.log.warn(
        { initConfig: this.config.initConfigName },
        "NodeLocalStorageInitConfig not found; creating the NodeLocalStorage with an empty spec",
      );
    }
    const body: NodeLocalStorage = {
      apiVersion: API_VERSION,
      kind: NLS_KIND,
      metadata: {
        name,
        // The Node owns its NLS, so deleting the Node garbage-collects it.
        ownerReferences: [{ apiVersion: "v1", kind: "Node", name: node.name, uid: node.uid }],
      },
      spec: nodeSpecFromInitConfig(initConfig?.spec, name, node.labels),
    };
    try {
      const created = await this.kube.createNls(body);
      this.metrics.countWrite("nls_create", "ok");
      this.log.info({ initConfig: this.config.initConfigName, found: !!initConfig }, "created the NodeLocalStorage");
      if (!initConfig) {
        await this.emit(created, CONFIG_SUBJECT, {
          type: "Warning",
          reason: "InitConfigNotFound",
          action: "CreateNodeLocalStorage",
          message: `NodeLocalStorageInitConfig "${this.config.initConfigName}" not found: created with an empty spec (nothing selected, nothing initialised)`,
        });
      }
      return { nls: created, created: true };
    } catch (err) {
      if (!isConflict(err)) {
        this.metrics.countWrite("nls_create", "error");
        throw err;
      }
      // Someone (open-local's controller, a user) created it first: theirs wins.
      this.metrics.countWrite("nls_create", "conflict");
      const now = await this.kube.getNls(name);
      if (!now) throw new Error(`NodeLocalStorage "${name}" exists and vanished again`, { cause: err });
      return { nls: now, created: false };
    }
  }

  /**
   * Applies `resourceToBeInited` (VGs and mount points), honouring each target's backoff; returns the
   * outcomes and the problems to report in status.
   */
  private async initialise(
    nls: NodeLocalStorage,
    facts: F,
  ): Promise<{ outcomes: InitTargetOutcome[]; problems: string[]; createdAny: boolean }> {
    const wanted = nls.spec?.resourceToBeInited;
    const problems: string[] = [];
    const nowMs = this.clock().getTime();
    const asked = new Set([
      ...(wanted?.vgs ?? []).map((v) => vgSubject(v.name)),
      ...(wanted?.mountpoints ?? []).map((m) => mountpointSubject(m.path)),
    ]);
    // Forget targets no longer asked for, so their backoff and event history do not leak.
    for (const subject of this.initFailures.keys()) if (!asked.has(subject)) this.initFailures.delete(subject);
    for (const subject of this.lastEvent.keys())
      if (subject !== CONFIG_SUBJECT && !asked.has(subject)) this.lastEvent.delete(subject);

    const waiting = new Set<string>();
    for (const subject of asked) {
      const failure = this.initFailures.get(subject);
      if (failure && failure.retryAt > nowMs) {
        waiting.add(subject);
        problems.push(failure.reason);
      }
    }
    const toInit: ResourceToBeInited = {
      ...wanted,
      vgs: (wanted?.vgs ?? []).filter((v) => !waiting.has(vgSubject(v.name))),
      mountpoints: (wanted?.mountpoints ?? []).filter((m) => !waiting.has(mountpointSubject(m.path))),
    };
    if (toInit.vgs!.length === 0 && toInit.mountpoints!.length === 0)
      return { outcomes: [], problems, createdAny: false };

    const raw = await this.host.init(toInit, facts);
    const outcomes = [...raw.vgs.map(fromVgOutcome), ...raw.mountpoints.map(fromMountpointOutcome)];
    let createdAny = false;
    for (const o of outcomes) {
      this.metrics.countInit(o.kind, o.result);
      const action = o.kind === "vg" ? "InitVolumeGroup" : "InitMountPoint";
      const noun = o.kind === "vg" ? "VolumeGroup" : "MountPoint";
      switch (o.result) {
        case "created":
        case "mounted":
          createdAny = true;
          this.initFailures.delete(o.subject);
          this.log.info({ target: o.label, result: o.result, detail: o.detail }, "initialised");
          await this.emit(nls, o.subject, {
            type: "Normal",
            reason: o.result === "created" ? `${noun}Created` : `${noun}Mounted`,
            action,
            message: `${o.result} ${o.label} ${o.detail}`,
          });
          break;
        case "exists":
          this.initFailures.delete(o.subject);
          if (o.reason) {
            const problem = o.reason.startsWith(o.label)
              ? o.reason
              : `${o.label} exists and was left alone: ${o.reason}`;
            problems.push(problem);
            await this.emit(nls, o.subject, { type: "Warning", reason: `${noun}Mismatch`, action, message: problem });
          } else {
            this.lastEvent.delete(o.subject);
          }
          break;
        case "refused": {
          // A refusal runs no command and is re-checked every scan: the user may clear the device.
          const reason = o.reason ?? "refused";
          const problem = reason.startsWith(o.label) ? reason : `${o.label} not created: ${reason}`;
          problems.push(problem);
          await this.emit(nls, o.subject, { type: "Warning", reason: "InitRefused", action, message: problem });
          break;
        }
        case "failed": {
          const prev = this.initFailures.get(o.subject);
          const failures = (prev?.failures ?? 0) + 1;
          const delay = initBackoffMs(failures, this.config.initBackoffBaseMs, this.config.initBackoffMaxMs);
          const problem = `${o.label} initialisation failed: ${o.reason ?? "unknown error"}`;
          this.initFailures.set(o.subject, { failures, retryAt: nowMs + delay, reason: problem });
          problems.push(problem);
          if (!prev) this.log.warn({ target: o.label, reason: o.reason, retryInMs: delay }, "initialisation failed");
          else this.log.debug({ target: o.label, failures, retryInMs: delay }, "initialisation failed again");
          await this.emit(nls, o.subject, {
            type: "Warning",
            reason: "InitFailed",
            action,
            message: `${problem} (retrying with backoff)`,
          });
          break;
        }
      }
    }
    return { outcomes, problems, createdAny };
  }

  /** Records an Event unless the same one was the last recorded for `subject`; failures only log. */
  private async emit(nls: NodeLocalStorage, subject: string, event: AgentEvent): Promise<void> {
    const key = `${event.type}|${event.reason}|${event.message}`;
    if (this.lastEvent.get(subject) === key) return;
    try {
      await this.kube.createEvent(this.config.leaseNamespace, nls, event);
      this.lastEvent.set(subject, key);
      this.metrics.countWrite("event", "ok");
    } catch (err) {
      this.metrics.countWrite("event", "error");
      this.log.warn({ err, reason: event.reason }, "recording an event failed");
    }
  }
}

/** A resettable "sleep until the interval passes or someone asks for an early run". */
class Wakeup {
  private pending = false;
  private wake: (() => void) | undefined;

  trigger(): void {
    this.pending = true;
    this.wake?.();
  }

  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
    this.pending = false;
  }
}

/** The reason a watch is ended on purpose when it has lived `watchMaxAgeMs`. */
const RENEW_WATCH = Symbol("renew watch");

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
