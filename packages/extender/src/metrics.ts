import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { pvAllocation } from "./claims.js";
import type { ClusterStore } from "./cache/store.js";
import { FAILURE_KINDS, type FailureKind } from "./decide.js";
import { RELEASE_CAUSES } from "./ledger.js";

export type Verb = "filter" | "prioritize" | "reserve";

/**
 * open-local's extender gauges (same names and labels, so dashboards keep working), computed from the
 * cache at scrape time, plus nls' own request, failure and reservation metrics.
 */
export class ExtenderMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<"verb">;
  readonly failedNodes: Counter<"reason">;
  readonly badRequests: Counter<"verb">;
  readonly reservationsCreated: Counter;

  constructor(private readonly store: ClusterStore) {
    const registers = [this.registry];
    this.requestDuration = new Histogram({
      name: "nls_extender_request_duration_seconds",
      help: "Time to answer a scheduler extender request, by verb.",
      labelNames: ["verb"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.failedNodes = new Counter({
      name: "nls_extender_failed_nodes_total",
      help: "Nodes rejected by filter, by reason (no-nls, agent, pinned, invalid, capacity).",
      labelNames: ["reason"],
      registers,
    });
    for (const r of FAILURE_KINDS) this.failedNodes.inc({ reason: r }, 0);
    this.badRequests = new Counter({
      name: "nls_extender_bad_requests_total",
      help: "Requests answered 400 or 413, by verb.",
      labelNames: ["verb"],
      registers,
    });
    this.reservationsCreated = new Counter({
      name: "nls_extender_reservations_created_total",
      help: "Tentative reservations created (each is later released exactly once).",
      registers,
      collect() {
        this.reset();
        this.inc(store.ledger.created);
      },
    });
    new Gauge({
      name: "nls_extender_reservations",
      help: "Live tentative reservations.",
      registers,
      collect() {
        this.set(store.ledger.liveReservations);
      },
    });
    new Counter({
      name: "nls_extender_reservation_releases_total",
      help: "Tentative reservations released, by cause.",
      labelNames: ["cause"],
      registers,
      collect() {
        this.reset();
        for (const c of RELEASE_CAUSES) this.inc({ cause: c }, store.ledger.released[c]);
      },
    });
  }

  /** The exposition text: nls' own metrics (prom-client), then open-local's per-node gauges. */
  async render(): Promise<string> {
    return (await this.registry.metrics()) + renderOpenLocal(this.store);
  }

  countFailures(failures: Record<FailureKind, number>): void {
    for (const k of FAILURE_KINDS) if (failures[k] > 0) this.failedNodes.inc({ reason: k }, failures[k]);
  }
}

/**
 * open-local's extender gauges, same names and labels so dashboards keep working. Rendered as text
 * here rather than through prom-client: at 5,000 nodes these are ~25,000 series, and prom-client's
 * per-series label handling blocked the event loop for hundreds of milliseconds per scrape — time
 * every scheduling request waiting behind it would pay. The three `*_total` families are typed
 * `untyped`: Prometheus treats them like gauges, and promtool's lint rejects a *gauge* named `_total`.
 */
export function renderOpenLocal(store: ClusterStore): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const nodes = store
    .nodeNames()
    .map((n) => [n, store.node(n)!, store.ledger.usage(n), store.nlsObject(n)?.status] as const);

  family(
    "local_volume_group_total",
    "untyped",
    "Allocatable bytes of a selected volume group (open-local compatible).",
  );
  for (const [n, view] of nodes) {
    for (const vg of view.vgs)
      out.push(`local_volume_group_total{nodename="${esc(n)}",vgname="${esc(vg.name)}"} ${vg.allocatable}`);
  }
  family(
    "local_volume_group_used",
    "gauge",
    "Committed bytes of a selected volume group: PVs, selected PVCs and reservations (open-local compatible).",
  );
  for (const [n, view, usage] of nodes) {
    for (const vg of view.vgs) {
      out.push(`local_volume_group_used{nodename="${esc(n)}",vgname="${esc(vg.name)}"} ${usage?.vg.get(vg.name) ?? 0}`);
    }
  }
  family("local_device_total", "untyped", "Size in bytes of a selected device (open-local compatible).");
  for (const [n, view] of nodes) {
    for (const d of view.devices) {
      out.push(`local_device_total{nodename="${esc(n)}",name="${esc(d.name)}",type="${esc(d.mediaType)}"} ${d.total}`);
    }
  }
  family("local_device_bind", "gauge", "1 when a selected device holds a volume (open-local compatible).");
  for (const [n, view, usage] of nodes) {
    for (const d of view.devices) {
      out.push(`local_device_bind{nodename="${esc(n)}",name="${esc(d.name)}"} ${usage?.devices.has(d.name) ? 1 : 0}`);
    }
  }
  const mountPoints = nodes.flatMap(([n, , , status]) => {
    const selected = new Set(status?.filteredStorageInfo?.mountPoints ?? []);
    return (status?.nodeStorageInfo?.mountPoints ?? [])
      .filter((mp) => mp?.name && selected.has(mp.name))
      .map((mp) => ({ n, name: mp.name, fsType: mp.fsType ?? "", total: mp.total ?? 0 }));
  });
  family(
    "local_mount_point_total",
    "untyped",
    "Size in bytes of a selected mount point (open-local compatible; nls does not schedule MountPoint volumes).",
  );
  for (const mp of mountPoints) {
    out.push(
      `local_mount_point_total{nodename="${esc(mp.n)}",name="${esc(mp.name)}",type="${esc(mp.fsType)}"} ${mp.total}`,
    );
  }
  family(
    "local_mount_point_bind",
    "gauge",
    "1 when a selected mount point holds a volume (open-local compatible; always 0 in nls).",
  );
  for (const mp of mountPoints) out.push(`local_mount_point_bind{nodename="${esc(mp.n)}",name="${esc(mp.name)}"} 0`);
  family("local_local_pv", "gauge", "Size in bytes of a local PV (open-local compatible).");
  for (const pv of store.allPvs()) {
    const a = pvAllocation(pv);
    if (!a) continue;
    const labels = [
      `nodename="${esc(a.node)}"`,
      `pv_name="${esc(pv.metadata?.name ?? "")}"`,
      `pv_type="${a.device ? "Device" : "LVM"}"`,
      `pvc_name="${esc(pv.spec?.claimRef?.name ?? "")}"`,
      `pvc_ns="${esc(pv.spec?.claimRef?.namespace ?? "")}"`,
      `status="${esc(pv.status?.phase ?? "")}"`,
      `storage_name="${esc(a.device ?? a.vg ?? "")}"`,
    ];
    out.push(`local_local_pv{${labels.join(",")}} ${a.bytes}`);
  }
  return `${out.join("\n")}\n`;
}

/** Label value escaping of the text exposition format. */
const esc = (v: string): string =>
  /[\\"\n]/.test(v) ? v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : v;
