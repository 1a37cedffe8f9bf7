import type { NodeLocalStorage, NodeLocalStorageStatus } from "@nls/api";
import type { Logger } from "@nls/daemon";
import type { HostPort } from "../host-port.js";
import { isConflict, type AgentKubeClient } from "../kube/client.js";
import type { AgentMetrics } from "../metrics.js";
import { stampStatus, statusChanged } from "../status.js";
import type { InitTargetOutcome, InitTracker } from "./init-tracker.js";
import type { NlsCreator } from "./nls-creator.js";

export interface ReconcileResult {
  createdNls: boolean;
  wroteStatus: boolean;
  status: NodeLocalStorageStatus;
  initOutcomes: InitTargetOutcome[];
  /** A VG may be created now: the stored status holds the intent recorded in this pass. */
  createNext: boolean;
}

export interface ReconcilerDeps<F> {
  kube: Pick<AgentKubeClient, "getNls" | "replaceNlsStatus">;
  host: Pick<HostPort<F>, "discover" | "buildStatus" | "commandErrors">;
  creator: NlsCreator;
  init: InitTracker<F>;
  metrics: AgentMetrics;
  log: Logger;
  clock: () => Date;
}

/** The part of an NLS whose change means "reconcile now": its identity, spec and annotations (storage-reserved). */
const triggerKey = (nls: NodeLocalStorage | undefined): string =>
  JSON.stringify([nls?.metadata.uid ?? null, nls?.spec ?? null, nls?.metadata.annotations ?? null]);

/**
 * One reconcile pass: make sure the NLS exists, discover the host, initialise what the spec asks for,
 * and write the status only if its content changed. A status write that conflicts (409) re-reads the
 * NLS, rebuilds the status against the fresh spec and annotations, and tries again, `maxStatusAttempts`
 * times in all.
 */
export class Reconciler<F> {
  /** The trigger key of the NLS the last pass saw; `undefined` before the first pass. */
  private lastKey: string | undefined;

  constructor(
    private readonly deps: ReconcilerDeps<F>,
    private readonly nodeName: string,
    private readonly maxStatusAttempts: number,
  ) {}

  /** Whether `nls` (`undefined`: deleted) differs from what the last pass reconciled, so a pass is due. */
  changedSinceLastPass(nls: NodeLocalStorage | undefined): boolean {
    return this.lastKey !== undefined && triggerKey(nls) !== this.lastKey;
  }

  async reconcile(): Promise<ReconcileResult> {
    const { kube, host, metrics, log, clock } = this.deps;
    const ensured = await this.deps.creator.ensure();
    let nls = ensured.nls;
    if (this.changedSinceLastPass(nls)) this.deps.init.retryNow();
    this.lastKey = triggerKey(nls);

    let facts = await host.discover();
    metrics.countCommandErrors(host.commandErrors(facts));
    const init = await this.deps.init.run(nls, facts);
    if (init.createdAny) {
      // A new VG changes the picture; report it in this pass, not the next.
      facts = await host.discover();
      metrics.countCommandErrors(host.commandErrors(facts));
    }

    let wrote = false;
    let status: NodeLocalStorageStatus;
    for (let attempt = 1; ; attempt++) {
      const now = clock();
      const built = host.buildStatus(
        facts,
        { spec: nls.spec, annotations: nls.metadata.annotations },
        now,
        nls.status,
        init.problems,
      );
      status = stampStatus(nls.status, built, now);
      if (!statusChanged(nls.status, status)) break;
      try {
        nls = await kube.replaceNlsStatus({ ...nls, status });
        metrics.countWrite("nls_status", "ok");
        wrote = true;
        break;
      } catch (err) {
        if (!isConflict(err)) {
          metrics.countWrite("nls_status", "error");
          throw err;
        }
        metrics.countWrite("nls_status", "conflict");
        if (attempt >= this.maxStatusAttempts) {
          throw new Error(
            `status of NodeLocalStorage "${this.nodeName}": still conflicting after ${attempt} attempts; giving up until the next reconcile`,
            { cause: err },
          );
        }
        log.debug({ attempt }, "status write conflicted; re-reading the NodeLocalStorage");
        const fresh = await kube.getNls(this.nodeName);
        if (!fresh) throw new Error(`NodeLocalStorage "${this.nodeName}" was deleted during the status update`);
        nls = fresh;
      }
    }

    metrics.observeStatus(this.nodeName, status);
    const pending = init.outcomes.filter((o) => o.result === "pending").map((o) => o.name);
    const stored = new Set((nls.status?.journal?.creating ?? []).map((i) => i.name));
    const createNext = pending.length > 0 && pending.every((name) => stored.has(name));
    if (pending.length > 0 && !createNext) {
      // Only a CRD without status.journal drops it: creating would wait for a record that never comes.
      log.warn({ vgs: pending }, "the stored status lacks the recorded intent; is the NodeLocalStorage CRD current?");
    }
    return { createdNls: ensured.created, wroteStatus: wrote, status, initOutcomes: init.outcomes, createNext };
  }
}
