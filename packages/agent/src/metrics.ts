import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { NodeLocalStorageStatus } from "@nls/api";
import { buildInfoLabels, type BuildInfo } from "@nls/daemon";
import type { InitOutcome, MountpointOutcome } from "./init/apply.js";

export type InitKind = "vg" | "mountpoint";
export type InitResult = InitOutcome["result"] | MountpointOutcome["result"];
export type WriteKind = "nls_create" | "nls_status" | "event" | "lease";
export type WriteResult = "ok" | "conflict" | "error";

/** The commands discovery runs (the `command` label of nls_agent_host_command_errors_total). */
export const HOST_COMMANDS = ["lsblk", "lvm", "wipefs", "losetup"] as const;

const NONCONFORMING_DEFAULT_METRICS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/**
 * The agent's Prometheus metrics on a registry of its own (no global state, so tests and several
 * agents in one process do not collide). Gauges mirror the last status; counters only grow.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly vgTotal: Gauge<"node" | "vg">;
  private readonly vgAvailable: Gauge<"node" | "vg">;
  private readonly vgAllocatable: Gauge<"node" | "vg">;
  private readonly vgLvs: Gauge<"node" | "vg">;
  private readonly deviceSize: Gauge<"node" | "device" | "media_type">;
  private readonly deviceCondition: Gauge<"node" | "device" | "condition">;
  readonly scanDuration: Histogram<never>;
  private readonly hostCommandErrors: Counter<"command">;
  readonly initTotal: Counter<"kind" | "result">;
  readonly apiWrites: Counter<"kind" | "result">;
  readonly reconcileErrors: Counter<never>;
  readonly lastSuccess: Gauge<never>;

  constructor(opts: { defaultMetrics?: boolean; build?: BuildInfo } = {}) {
    const registers = [this.registry];
    if (opts.build) {
      new Gauge({
        name: "nls_agent_build_info",
        help: "Always 1: the version and commit (revision) of this nls-agent, and its Node.js.",
        labelNames: ["version", "revision", "nodejs"],
        registers,
      }).set(buildInfoLabels(opts.build), 1);
    }
    const vgGauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ["node", "vg"], registers });
    this.vgTotal = vgGauge("nls_vg_total_bytes", "Size of the volume group in bytes.");
    this.vgAvailable = vgGauge("nls_vg_available_bytes", "Unallocated bytes of the volume group.");
    this.vgAllocatable = vgGauge(
      "nls_vg_allocatable_bytes",
      "Bytes of the volume group the storage system may use (total minus unmanaged LVs, capped by storage-reserved).",
    );
    // Not `_count`: that suffix is reserved for histograms and summaries (promtool rejects it on a gauge).
    this.vgLvs = vgGauge("nls_vg_logical_volumes", "Number of logical volumes in the volume group.");
    this.deviceSize = new Gauge({
      name: "nls_device_size_bytes",
      help: "Size of the block device in bytes.",
      labelNames: ["node", "device", "media_type"],
      registers,
    });
    this.deviceCondition = new Gauge({
      name: "nls_device_condition",
      help: "1 for the block device's current condition (DiskReady, DiskFull, DiskFault), 0 for the others.",
      labelNames: ["node", "device", "condition"],
      registers,
    });
    this.scanDuration = new Histogram({
      name: "nls_agent_scan_duration_seconds",
      help: "Duration of one reconcile: discovery, initialisation and the status write.",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.hostCommandErrors = new Counter({
      name: "nls_agent_host_command_errors_total",
      help: "Host commands that failed or timed out during discovery, by command (lsblk, lvm, wipefs, losetup).",
      labelNames: ["command"],
      registers,
    });
    // Every command's series exists from the start, so rate() and increase() see its first error.
    for (const command of HOST_COMMANDS) this.hostCommandErrors.inc({ command }, 0);
    this.initTotal = new Counter({
      name: "nls_agent_init_total",
      help: "resourceToBeInited outcomes by kind (vg, mountpoint) and result (created, pending, mounted, exists, refused, failed).",
      labelNames: ["kind", "result"],
      registers,
    });
    this.apiWrites = new Counter({
      name: "nls_agent_api_writes_total",
      help: "Writes to the Kubernetes API by kind (nls_create, nls_status, event, lease) and result (ok, conflict, error).",
      labelNames: ["kind", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "nls_agent_reconcile_errors_total",
      help: "Reconciles that failed (API unreachable, status write given up, …); each is retried at the next interval.",
      registers,
    });
    this.lastSuccess = new Gauge({
      name: "nls_agent_last_reconcile_success_timestamp_seconds",
      help: "Unix time of the last complete reconcile (host fully read, status written or unchanged); alert on time() minus this.",
      registers,
    });
    if (opts.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // These three are gauges named `_total`, which Prometheus naming (and promtool) forbids.
      for (const name of NONCONFORMING_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
  }

  /** Replaces the per-VG and per-device gauges with what `status` reports; vanished VGs/devices disappear. */
  observeStatus(node: string, status: NodeLocalStorageStatus): void {
    for (const g of [
      this.vgTotal,
      this.vgAvailable,
      this.vgAllocatable,
      this.vgLvs,
      this.deviceSize,
      this.deviceCondition,
    ])
      g.reset();
    const info = status.nodeStorageInfo;
    for (const vg of info?.volumeGroups ?? []) {
      const labels = { node, vg: vg.name };
      this.vgTotal.set(labels, vg.total);
      this.vgAvailable.set(labels, vg.available);
      this.vgAllocatable.set(labels, vg.allocatable);
      this.vgLvs.set(labels, vg.logicalVolumes.length);
    }
    for (const dev of info?.deviceInfo ?? []) {
      this.deviceSize.set({ node, device: dev.name, media_type: dev.mediaType }, dev.total);
      for (const condition of ["DiskReady", "DiskFull", "DiskFault"] as const) {
        this.deviceCondition.set({ node, device: dev.name, condition }, dev.condition === condition ? 1 : 0);
      }
    }
  }

  countCommandErrors(errors: Readonly<Record<string, number>>): void {
    for (const [command, n] of Object.entries(errors)) if (n > 0) this.hostCommandErrors.inc({ command }, n);
  }

  countInit(kind: InitKind, result: InitResult): void {
    this.initTotal.inc({ kind, result });
  }

  countWrite(kind: WriteKind, result: WriteResult): void {
    this.apiWrites.inc({ kind, result });
  }

  /** The exposition text for `/metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
