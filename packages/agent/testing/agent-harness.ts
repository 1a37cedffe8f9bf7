import type { NodeLocalStorageSpec, NodeLocalStorageStatus, ResourceToBeInited } from "@nls/api";
import { createLogger } from "@nls/daemon";
import { Agent, DEFAULT_AGENT_CONFIG, type AgentConfig } from "../src/agent.js";
import type { HostPort, InitOutcomes } from "../src/host-port.js";
import { AgentMetrics } from "../src/metrics.js";
import { DISCOVERY_FAILED } from "../src/report.js";
import { FakeKube } from "./fake-kube.js";

/**
 * The agent's loop against fakes: the in-memory API server, a host in memory and a clock the test moves.
 */

/** A host in memory: VGs, mounted paths, devices that carry data, and a switch that makes init fail. */
export interface FakeFacts {
  vgs: { name: string; total: number; free: number }[];
  mounted: string[];
  dirtyDevices: string[];
}

export class FakeHost implements HostPort<FakeFacts> {
  facts: FakeFacts = { vgs: [{ name: "pool0", total: 1000, free: 1000 }], mounted: [], dirtyDevices: [] };
  failInit = false;
  /** The host cannot be read (as when `lvm fullreport` fails): the status says DiscoveryFailed. */
  unreadable = false;
  /** As the real host: a new VG is first only announced (pending), created on the next pass. */
  announceFirst = false;
  /** A status without the journal, as an old CRD would prune it. */
  dropJournal = false;
  readonly announced = new Set<string>();
  discoverCalls = 0;
  initCalls: ResourceToBeInited[] = [];

  async discover(): Promise<FakeFacts> {
    this.discoverCalls++;
    return structuredClone(this.facts);
  }

  async init(toInit: ResourceToBeInited, facts: FakeFacts): Promise<InitOutcomes> {
    this.initCalls.push(structuredClone(toInit));
    const dirty = (devices: string[]) => devices.find((d) => facts.dirtyDevices.includes(d));
    const vgs = (toInit.vgs ?? []).map((want): InitOutcomes["vgs"][number] => {
      const base = { vg: want.name, devices: want.devices };
      if (facts.vgs.some((v) => v.name === want.name)) return { ...base, result: "exists" };
      const d = dirty(want.devices);
      if (d) return { ...base, result: "refused", reason: `${d}: has an ext4 signature` };
      if (this.failInit) return { ...base, result: "failed", reason: "vgcreate exited 5" };
      if (this.announceFirst && !this.announced.has(want.name)) {
        this.announced.add(want.name);
        return { ...base, result: "pending" };
      }
      this.facts.vgs.push({ name: want.name, total: 500, free: 500 });
      return { ...base, result: "created" };
    });
    const mountpoints = (toInit.mountpoints ?? []).map((want): InitOutcomes["mountpoints"][number] => {
      const base = { path: want.path, device: want.device };
      if (facts.mounted.includes(want.path)) return { ...base, result: "exists" };
      const d = dirty([want.device]);
      if (d) return { ...base, result: "refused", reason: `${d}: has an ext4 signature` };
      if (this.failInit) return { ...base, result: "failed", reason: "mkfs.ext4 exited 1" };
      this.facts.mounted.push(want.path);
      return { ...base, result: "created" };
    });
    return { vgs, mountpoints };
  }

  buildStatus(
    facts: FakeFacts,
    nls: { spec?: NodeLocalStorageSpec; annotations?: Record<string, string> },
    now: Date,
    _previous: NodeLocalStorageStatus | undefined,
    initProblems: string[],
  ): NodeLocalStorageStatus {
    const include = nls.spec?.listConfig?.vgs?.include ?? [];
    return {
      nodeStorageInfo: {
        volumeGroups: facts.vgs.map((v) => ({
          name: v.name,
          physicalVolumes: [],
          logicalVolumes: [],
          total: v.total,
          available: v.free,
          allocatable: v.total,
          condition: "DiskReady",
        })),
        deviceInfo: [],
        phase: "Running",
        state: {
          type: "DiskReady",
          ...(this.unreadable
            ? { status: "False", reason: DISCOVERY_FAILED, message: "lvm fullreport failed (exit 5)" }
            : {
                status: "True",
                reason: initProblems.length > 0 ? "ConfigurationProblems" : "Ready",
                ...(initProblems.length > 0 ? { message: initProblems.join("; ") } : {}),
              }),
          lastHeartbeatTime: now.toISOString(),
          lastTransitionTime: now.toISOString(),
        },
      },
      filteredStorageInfo: {
        volumeGroups: facts.vgs.map((v) => v.name).filter((n) => include.includes(n)),
        devices: [],
        mountPoints: [],
        updateStatusInfo: { updateStatus: "accepted", lastUpdateTime: now.toISOString() },
      },
      ...(this.dropJournal
        ? {}
        : {
            journal: {
              seenVolumeGroups: facts.vgs.map((v) => v.name),
              creating: [...this.announced]
                .filter((name) => !facts.vgs.some((v) => v.name === name))
                .map((name) => ({ name, devices: [] })),
            },
          }),
    };
  }

  commandErrors(): Record<string, number> {
    return {};
  }
}

export const NODE = "node-1";

/** An agent for `NODE` (labels zone=a, disk=nvme) with the init config `open-local`; the NLS is created unless `nlsSpec` is given. */
export function setupAgent(opts: { config?: Partial<AgentConfig>; nlsSpec?: NodeLocalStorageSpec } = {}) {
  const kube = new FakeKube();
  kube.addNode(NODE, { zone: "a", disk: "nvme" });
  kube.addInitConfig({
    metadata: { name: "open-local" },
    spec: {
      globalConfig: { listConfig: { vgs: { include: ["global-vg"] } } },
      nodesConfig: [
        { selector: { matchLabels: { zone: "a" } }, listConfig: { vgs: { include: ["first-match"] } } },
        { selector: { matchLabels: { disk: "nvme" } }, listConfig: { vgs: { include: ["pool0"] } } },
        { selector: { matchLabels: { zone: "b" } }, listConfig: { vgs: { include: ["not-matching"] } } },
      ],
    },
  });
  if (opts.nlsSpec) {
    kube.nls.set(NODE, { metadata: { name: NODE, resourceVersion: "0", generation: 1, uid: "u" }, spec: opts.nlsSpec });
  }
  const host = new FakeHost();
  const metrics = new AgentMetrics({ defaultMetrics: false });
  let now = new Date("2026-05-01T10:00:00Z");
  const clock = {
    now: () => now,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
  };
  const agent = new Agent({
    kube,
    host,
    metrics,
    log: createLogger("nls-agent", "silent"),
    clock: clock.now,
    config: {
      ...DEFAULT_AGENT_CONFIG,
      nodeName: NODE,
      initConfigName: "open-local",
      leaseNamespace: "nls-node-lease",
      eventNamespace: "kube-system",
      ...opts.config,
    },
  });
  return { kube, host, metrics, agent, clock };
}

/** Polls `cond` until it holds; the deadline only bounds a broken test, it asserts nothing about speed. */
export async function eventually(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}
