import type { NodeLocalStorageSpec, NodeLocalStorageStatus, ResourceToBeInited } from "@nls/api";
import { discoverHost, type DiscoveryOptions, type HostFacts } from "./discovery/host.js";
import type { CommandRunner } from "./discovery/run.js";
import { applyInit, applyMountpoints, type InitOutcome, type MountpointOutcome } from "./init/apply.js";
import { planInit } from "./init/plan.js";
import { nextJournal } from "./journal.js";
import { buildStatus } from "./report.js";

/** What initialising `resourceToBeInited` did, per VG and per mount point (`init/apply.ts`). */
export interface InitOutcomes {
  vgs: InitOutcome[];
  mountpoints: MountpointOutcome[];
}

/** What the agent's loop needs from the host, over whatever facts discovery produces. */
export interface HostPort<F> {
  discover(): Promise<F>;
  /**
   * Plans and applies `toInit` against `facts` and the stored status (its journal); refusals are
   * outcomes, not exceptions.
   */
  init(toInit: ResourceToBeInited, facts: F, stored: NodeLocalStorageStatus | undefined): Promise<InitOutcomes>;
  buildStatus(
    facts: F,
    nls: { spec?: NodeLocalStorageSpec; annotations?: Record<string, string> },
    now: Date,
    previous: NodeLocalStorageStatus | undefined,
    initProblems: string[],
  ): NodeLocalStorageStatus;
  /** Host commands that failed during the scan that produced `facts`, by command. */
  commandErrors(facts: F): Readonly<Record<string, number>>;
}

/** The agent's host side over real commands: discovery, the init plan and its application, the report. */
export function realHost(runner: CommandRunner, opts: DiscoveryOptions & { lvPrefix: string }): HostPort<HostFacts> {
  const discovery: DiscoveryOptions = {
    deviceGlobs: opts.deviceGlobs,
    mountRoot: opts.mountRoot,
    ...(opts.mountInfoPath ? { mountInfoPath: opts.mountInfoPath } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.aliasDirs ? { aliasDirs: opts.aliasDirs } : {}),
    ...(opts.lvmBackupDir ? { lvmBackupDir: opts.lvmBackupDir } : {}),
    ...(opts.procRoot ? { procRoot: opts.procRoot } : {}),
  };
  return {
    discover: () => discoverHost(runner, discovery),
    init: async (toInit, facts, previous) => {
      const plan = planInit(toInit, facts, {
        mountRoot: opts.mountRoot,
        ...(previous?.journal ? { journal: previous.journal } : {}),
      });
      // VGs first: a mount point never depends on a VG, but a VG plan has already claimed its devices.
      const vgs = await applyInit(plan, runner);
      return { vgs, mountpoints: await applyMountpoints(plan, runner) };
    },
    buildStatus: (facts, nls, now, previous, initProblems) => {
      // The journal records what this scan would create, before the next pass creates it.
      const ctx = { mountRoot: opts.mountRoot, ...(previous?.journal ? { journal: previous.journal } : {}) };
      const journal = nextJournal(previous?.journal, facts, planInit(nls.spec?.resourceToBeInited, facts, ctx));
      return buildStatus(
        facts,
        nls,
        { lvPrefix: opts.lvPrefix, now, journal, ...(previous ? { previous } : {}) },
        initProblems,
      );
    },
    commandErrors: (facts) => facts.commandErrors,
  };
}
