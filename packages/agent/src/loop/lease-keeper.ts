import { leaseNameForNode } from "@nls/api";
import type { Logger } from "@nls/daemon";
import { isConflict, type AgentKubeClient, type Lease, type NodeRef } from "../kube/client.js";
import type { AgentMetrics } from "../metrics.js";
import { sleep } from "./timing.js";

export interface LeaseKeeperDeps {
  kube: Pick<AgentKubeClient, "getLease" | "createLease" | "replaceLease">;
  /** The agent's Node, the Lease's owner (so the Lease is garbage-collected with it). */
  node: () => Promise<NodeRef>;
  /** When the running reconcile started (clock ms), `undefined` between reconciles. */
  busySince: () => number | undefined;
  /** When the last complete reconcile ended (clock ms). */
  lastComplete: () => number;
  metrics: AgentMetrics;
  log: Logger;
  clock: () => Date;
}

export interface LeaseSettings {
  nodeName: string;
  namespace: string;
  durationSeconds: number;
  renewMs: number;
  /**
   * A reconcile running longer than this counts as a wedged loop: the Lease is no longer renewed, so
   * the agent looks dead (which it is, for its node's status) rather than quiet.
   */
  stuckAfterMs: number;
  /** The last complete reconcile older than this: the host is not being read, so the Lease lapses. */
  staleAfterMs: number;
}

/**
 * The Lease `nls-agent-<node>`: proof that the agent is alive, so that readers can tell a dead agent
 * from a quiet node without the NLS being rewritten every scan.
 */
export class LeaseKeeper {
  /** The Lease as last written; re-read after any failure. */
  private lease: Lease | undefined;

  constructor(
    private readonly deps: LeaseKeeperDeps,
    private readonly settings: LeaseSettings,
  ) {}

  /** Creates or renews the Lease; throws (and counts) when that fails or the loop is wedged. */
  async renew(): Promise<void> {
    const { kube, metrics, log } = this.deps;
    const { nodeName: node, namespace, durationSeconds } = this.settings;
    const name = leaseNameForNode(node);
    const now = this.deps.clock();
    const busySince = this.deps.busySince();
    if (busySince !== undefined && now.getTime() - busySince > this.settings.stuckAfterMs) {
      throw new Error(
        `not renewing the lease: the current reconcile has been running for ${Math.round((now.getTime() - busySince) / 1000)}s`,
      );
    }
    const sinceComplete = now.getTime() - this.deps.lastComplete();
    if (sinceComplete > this.settings.staleAfterMs) {
      throw new Error(
        `not renewing the lease: no complete reconcile for ${Math.round(sinceComplete / 1000)}s (the status would vouch for stale capacities)`,
      );
    }
    try {
      const current = this.lease ?? (await kube.getLease(namespace, name));
      if (!current) {
        const owner = await this.deps.node().catch((err: unknown) => {
          log.warn({ err }, "cannot read the Node; creating the Lease without an owner");
          return undefined;
        });
        this.lease = await kube.createLease({
          namespace,
          name,
          holderIdentity: node,
          leaseDurationSeconds: durationSeconds,
          acquireTime: now,
          renewTime: now,
          ...(owner ? { owner } : {}),
        });
      } else {
        const takeover = current.holderIdentity !== node;
        this.lease = await kube.replaceLease({
          ...current,
          holderIdentity: node,
          leaseDurationSeconds: durationSeconds,
          acquireTime: takeover ? now : (current.acquireTime ?? now),
          renewTime: now,
        });
      }
      metrics.countWrite("lease", "ok");
    } catch (err) {
      // Re-read next time: the cached copy is stale (409), gone (404), or unknown.
      this.lease = undefined;
      metrics.countWrite("lease", isConflict(err) ? "conflict" : "error");
      throw err;
    }
  }

  /** Renews every `renewMs` until `signal` aborts; logs the first failure of a run of failures only. */
  async keepRenewing(signal: AbortSignal): Promise<void> {
    let failing = false;
    while (!signal.aborted) {
      try {
        await this.renew();
        if (failing) this.deps.log.info("lease renewed again");
        failing = false;
      } catch (err) {
        if (!failing) this.deps.log.warn({ err }, "renewing the lease failed; retrying");
        failing = true;
      }
      await sleep(this.settings.renewMs, signal);
    }
  }
}
