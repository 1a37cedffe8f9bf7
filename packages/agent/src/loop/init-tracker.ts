import type { NodeLocalStorage, ResourceToBeInited } from "@nls/api";
import type { Logger } from "@nls/daemon";
import type { HostPort } from "../host-port.js";
import type { InitOutcome, MountpointOutcome } from "../init/apply.js";
import type { AgentEvent } from "../kube/client.js";
import type { AgentMetrics } from "../metrics.js";
import type { EventRecorder } from "./event-recorder.js";

/**
 * `resourceToBeInited` across scans: which VGs and mount points to attempt now (a failed one waits out
 * its backoff), and what each outcome puts in the status and records as an Event. Refusals are not
 * failures: they run no command, so they are re-checked every scan (the user may clear the device).
 */

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

/** What one init pass did. */
export interface InitPass {
  outcomes: InitTargetOutcome[];
  /** For `status.nodeStorageInfo.state.message`: refusals, failures (also while waiting), mismatches. */
  problems: string[];
  /** A VG or mount point was made: the host looks different now. */
  createdAny: boolean;
}

const vgSubject = (name: string) => `vg:${name}`;
const mountpointSubject = (path: string) => `mountpoint:${path}`;
const isInitSubject = (subject: string) => subject.startsWith("vg:") || subject.startsWith("mountpoint:");

export const fromVgOutcome = (o: InitOutcome): InitTargetOutcome => ({
  kind: "vg",
  name: o.vg,
  subject: vgSubject(o.vg),
  label: `VG ${o.vg}`,
  result: o.result,
  ...(o.reason !== undefined ? { reason: o.reason } : {}),
  detail: `on ${o.devices.join(", ")}`,
});

export const fromMountpointOutcome = (o: MountpointOutcome): InitTargetOutcome => ({
  kind: "mountpoint",
  name: o.path,
  subject: mountpointSubject(o.path),
  label: `mount point ${o.path}`,
  result: o.result,
  ...(o.reason !== undefined ? { reason: o.reason } : {}),
  detail: `from ${o.device}`,
});

/** Delay before retry number `failures` (1-based) of a failed init: base·2^(n−1), capped. */
export function initBackoffMs(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  // Beyond 2^30 the cap has long applied; stop the exponent before it overflows to Infinity.
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}

/**
 * What an outcome reports: the problem for the status (none when all is well) and the Event to record
 * (none for a target that exists as asked). A failure's Event says it will be retried.
 */
export function reportOutcome(o: InitTargetOutcome): { problem?: string; event?: AgentEvent } {
  const action = o.kind === "vg" ? "InitVolumeGroup" : "InitMountPoint";
  const noun = o.kind === "vg" ? "VolumeGroup" : "MountPoint";
  // Reasons from the plan often start with the target's name already.
  const named = (reason: string, otherwise: string) => (reason.startsWith(o.label) ? reason : otherwise);
  switch (o.result) {
    case "pending":
      // The status about to be written records the intent; the next pass creates.
      return {};
    case "created":
    case "mounted":
      return {
        event: {
          type: "Normal",
          reason: o.result === "created" ? `${noun}Created` : `${noun}Mounted`,
          action,
          message: `${o.result} ${o.label} ${o.detail}`,
        },
      };
    case "exists": {
      if (!o.reason) return {};
      const problem = named(o.reason, `${o.label} exists and was left alone: ${o.reason}`);
      return { problem, event: { type: "Warning", reason: `${noun}Mismatch`, action, message: problem } };
    }
    case "refused": {
      const reason = o.reason ?? "refused";
      const problem = named(reason, `${o.label} not created: ${reason}`);
      return { problem, event: { type: "Warning", reason: "InitRefused", action, message: problem } };
    }
    case "failed": {
      const problem = `${o.label} initialisation failed: ${o.reason ?? "unknown error"}`;
      return {
        problem,
        event: { type: "Warning", reason: "InitFailed", action, message: `${problem} (retrying with backoff)` },
      };
    }
  }
}

export interface InitTrackerDeps<F> {
  host: Pick<HostPort<F>, "init">;
  events: EventRecorder;
  metrics: AgentMetrics;
  log: Logger;
  clock: () => Date;
}

export interface InitBackoff {
  /** First retry delay after a failed VG or mount point; doubles per failure up to `maxMs`. */
  baseMs: number;
  maxMs: number;
}

interface InitFailure {
  failures: number;
  retryAt: number;
  problem: string;
}

export class InitTracker<F> {
  private readonly failures = new Map<string, InitFailure>();

  constructor(
    private readonly deps: InitTrackerDeps<F>,
    private readonly backoff: InitBackoff,
  ) {}

  /** The user edited the NLS (perhaps what to initialise): failed targets are retried now. */
  retryNow(): void {
    this.failures.clear();
  }

  /**
   * Applies what `nls` asks to initialise on the host described by `facts`, except targets still
   * waiting out a failure's backoff (their last failure stays a problem); records an Event per changed
   * outcome.
   */
  async run(nls: NodeLocalStorage, facts: F): Promise<InitPass> {
    const { events, metrics, log } = this.deps;
    const wanted = nls.spec?.resourceToBeInited;
    const problems: string[] = [];
    const nowMs = this.deps.clock().getTime();
    const asked = new Set([
      ...(wanted?.vgs ?? []).map((v) => vgSubject(v.name)),
      ...(wanted?.mountpoints ?? []).map((m) => mountpointSubject(m.path)),
    ]);
    // Forget targets no longer asked for, so their backoff and event history do not leak.
    for (const subject of this.failures.keys()) if (!asked.has(subject)) this.failures.delete(subject);
    events.forget((subject) => isInitSubject(subject) && !asked.has(subject));

    const waiting = new Set<string>();
    for (const subject of asked) {
      const failure = this.failures.get(subject);
      if (failure && failure.retryAt > nowMs) {
        waiting.add(subject);
        problems.push(failure.problem);
      }
    }
    const toInit: ResourceToBeInited = {
      ...wanted,
      vgs: (wanted?.vgs ?? []).filter((v) => !waiting.has(vgSubject(v.name))),
      mountpoints: (wanted?.mountpoints ?? []).filter((m) => !waiting.has(mountpointSubject(m.path))),
    };
    if (toInit.vgs!.length === 0 && toInit.mountpoints!.length === 0) {
      return { outcomes: [], problems, createdAny: false };
    }

    const raw = await this.deps.host.init(toInit, facts, nls.status);
    const outcomes = [...raw.vgs.map(fromVgOutcome), ...raw.mountpoints.map(fromMountpointOutcome)];
    let createdAny = false;
    for (const o of outcomes) {
      metrics.countInit(o.kind, o.result);
      const { problem, event } = reportOutcome(o);
      if (problem) problems.push(problem);
      if (o.result === "failed") {
        const prev = this.failures.get(o.subject);
        const failures = (prev?.failures ?? 0) + 1;
        const delay = initBackoffMs(failures, this.backoff.baseMs, this.backoff.maxMs);
        this.failures.set(o.subject, { failures, retryAt: nowMs + delay, problem: problem! });
        if (!prev) log.warn({ target: o.label, reason: o.reason, retryInMs: delay }, "initialisation failed");
        else log.debug({ target: o.label, failures, retryInMs: delay }, "initialisation failed again");
      } else if (o.result !== "refused") {
        this.failures.delete(o.subject);
      }
      if (o.result === "pending") log.debug({ target: o.label }, "recording the intent before creating");
      if (o.result === "created" || o.result === "mounted") {
        createdAny = true;
        log.info({ target: o.label, result: o.result, detail: o.detail }, "initialised");
      }
      if (event) await events.record(nls, o.subject, event);
      else events.forget((subject) => subject === o.subject);
    }
    return { outcomes, problems, createdAny };
  }
}
