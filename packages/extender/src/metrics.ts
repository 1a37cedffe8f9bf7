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

  constructor(store: ClusterStore) {
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
    new Gauge({
      name: "local_volume_group_total",
      help: "Allocatable bytes of a selected volume group (open-local compatible).",
      labelNames: ["nodename", "vgname"],
      registers,
      collect() {
        this.reset();
        for (const node of store.nodeNames()) {
          for (const vg of store.node(node)!.vgs) this.set({ nodename: node, vgname: vg.name }, vg.allocatable);
        }
      },
    });
    new Gauge({
      name: "local_volume_group_used",
      help: "Committed bytes of a selected volume group: PVs, selected PVCs and reservations (open-local compatible).",
      labelNames: ["nodename", "vgname"],
      registers,
      collect() {
        this.reset();
        for (const node of store.nodeNames()) {
          const usage = store.ledger.usage(node);
          for (const vg of store.node(node)!.vgs) {
            this.set({ nodename: node, vgname: vg.name }, usage?.vg.get(vg.name) ?? 0);
          }
        }
      },
    });
    new Gauge({
      name: "local_device_total",
      help: "Size in bytes of a selected device (open-local compatible).",
      labelNames: ["nodename", "name", "type"],
      registers,
      collect() {
        this.reset();
        for (const node of store.nodeNames()) {
          for (const d of store.node(node)!.devices)
            this.set({ nodename: node, name: d.name, type: d.mediaType }, d.total);
        }
      },
    });
    new Gauge({
      name: "local_device_bind",
      help: "1 when a selected device holds a volume (open-local compatible).",
      labelNames: ["nodename", "name"],
      registers,
      collect() {
        this.reset();
        for (const node of store.nodeNames()) {
          const usage = store.ledger.usage(node);
          for (const d of store.node(node)!.devices) {
            this.set({ nodename: node, name: d.name }, usage?.devices.has(d.name) ? 1 : 0);
          }
        }
      },
    });
    new Gauge({
      name: "local_mount_point_total",
      help: "Size in bytes of a selected mount point (open-local compatible; nls does not schedule MountPoint volumes).",
      labelNames: ["nodename", "name", "type"],
      registers,
      collect() {
        this.reset();
        for (const node of store.nodeNames()) {
          const status = store.nlsObject(node)?.status;
          const selected = new Set(status?.filteredStorageInfo?.mountPoints ?? []);
          for (const mp of status?.nodeStorageInfo?.mountPoints ?? []) {
            if (mp?.name && selected.has(mp.name)) {
              this.set({ nodename: node, name: mp.name, type: mp.fsType ?? "" }, mp.total ?? 0);
            }
          }
        }
      },
    });
    new Gauge({
      name: "local_mount_point_bind",
      help: "1 when a selected mount point holds a volume (open-local compatible; always 0 in nls).",
      labelNames: ["nodename", "name"],
      registers,
      collect() {
        this.reset();
        for (const node of store.nodeNames()) {
          const status = store.nlsObject(node)?.status;
          const selected = new Set(status?.filteredStorageInfo?.mountPoints ?? []);
          for (const mp of status?.nodeStorageInfo?.mountPoints ?? []) {
            if (mp?.name && selected.has(mp.name)) this.set({ nodename: node, name: mp.name }, 0);
          }
        }
      },
    });
    new Gauge({
      name: "local_local_pv",
      help: "Size in bytes of a local PV (open-local compatible).",
      labelNames: ["nodename", "pv_name", "pv_type", "pvc_name", "pvc_ns", "status", "storage_name"],
      registers,
      collect() {
        this.reset();
        for (const pv of store.allPvs()) {
          const a = pvAllocation(pv);
          if (!a) continue;
          this.set(
            {
              nodename: a.node,
              pv_name: pv.metadata?.name ?? "",
              pv_type: a.device ? "Device" : "LVM",
              pvc_name: pv.spec?.claimRef?.name ?? "",
              pvc_ns: pv.spec?.claimRef?.namespace ?? "",
              status: pv.status?.phase ?? "",
              storage_name: a.device ?? a.vg ?? "",
            },
            a.bytes,
          );
        }
      },
    });
  }

  /**
   * The exposition text. open-local's three `*_total` gauges keep their names (dashboards query them)
   * but are typed `untyped`: Prometheus treats them the same, and promtool's lint rejects a *gauge*
   * named `_total`. Everything else is as prom-client renders it.
   */
  async render(): Promise<string> {
    const text = await this.registry.metrics();
    return text.replace(/^# TYPE (local_(?:volume_group|device|mount_point)_total) gauge$/gm, "# TYPE $1 untyped");
  }

  countFailures(failures: Record<FailureKind, number>): void {
    for (const k of FAILURE_KINDS) if (failures[k] > 0) this.failedNodes.inc({ reason: k }, failures[k]);
  }
}
