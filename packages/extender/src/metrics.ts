import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { buildInfoLabels, type BuildInfo } from "@nls/daemon";
import { allocationType } from "./claims.js";
import type { PvRecord } from "./pv-record.js";
import type { ClusterStore } from "./cache/store.js";
import type { BusyDeviceView, DeviceView } from "./node-view.js";

/** A device or mount point, free or held, as the open-local families name it. */
type Unit = Pick<DeviceView | BusyDeviceView, "name" | "mediaType">;
import type { NodeState } from "./placement.js";
import { overcommittedVgs } from "./overcommit.js";
import { FAILURE_KINDS, type FailureKind, type NodeRecord } from "./decide.js";
import { RELEASE_CAUSES } from "./ledger.js";
import { WATCHED_KINDS } from "./cache/informers.js";
import { unsyncedSeconds, type FeedHealth } from "./cache/feed-health.js";
import { SYNC_STEPS } from "./webhook-certificate/keeper.js";

export const VERBS = ["filter", "prioritize", "reserve"] as const;

/** Work per piece of a scrape before the event loop gets a turn. */
const SLICE_MS = 2;

/** A clock for slicing work: true once `sliceMs` passed since it was made or last said true. */
function sliceBudget(sliceMs: number): () => boolean {
  let until = performance.now() + sliceMs;
  return () => {
    const now = performance.now();
    if (now < until) return false;
    until = now + sliceMs;
    return true;
  };
}
export type Verb = (typeof VERBS)[number];

/**
 * open-local's extender gauges (every family its Grafana dashboard reads, same names and labels),
 * computed from the cache at scrape time, plus nls' own request, failure and reservation metrics.
 */
export class ExtenderMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<"verb">;
  readonly failedNodes: Counter<"reason">;
  readonly badRequests: Counter<"verb">;
  readonly reservationsCreated: Counter;
  readonly reserveRefusals: Counter;
  readonly admittedPods: Counter<"marked">;
  readonly webhookCertificateFailures: Counter<"step">;
  readonly webhookCertificatesIssued: Counter<"what">;
  readonly webhookCertificateExpiry: Gauge;
  readonly watchFailures: Counter<"kind">;
  private readonly openLocal = new OpenLocalGauges();
  private feeds: { health: () => FeedHealth[]; clock: () => number } | undefined;
  private ready: (() => boolean) | undefined;
  private serving: (() => boolean) | undefined;

  constructor(
    private readonly store: ClusterStore,
    build?: BuildInfo,
    options: { defaultMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    // process_* (memory, CPU, open fds) and nodejs_* (event-loop lag, heap, GC): where a slow answer
    // or a growing process shows first.
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    if (build) {
      new Gauge({
        name: "nls_extender_build_info",
        help: "Always 1: the version and commit (revision) of this nls-extender, and its Node.js.",
        labelNames: ["version", "revision", "nodejs"],
        registers,
      }).set(buildInfoLabels(build), 1);
    }
    this.requestDuration = new Histogram({
      name: "nls_extender_request_duration_seconds",
      help: "Time to answer a scheduler extender request, by verb.",
      labelNames: ["verb"],
      // Up to kube-scheduler's 5 s httpTimeout: a request near it shows where it is, not just `+Inf`.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    // Every verb's series exists from the start, so dashboards and rates see 0, not nothing.
    for (const verb of VERBS) this.requestDuration.zero({ verb });
    this.failedNodes = new Counter({
      name: "nls_extender_failed_nodes_total",
      help: "Nodes rejected by filter, by reason (no-nls, agent, pinned, invalid, unseen, capacity).",
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
    this.watchFailures = new Counter({
      name: "nls_extender_watch_failures_total",
      help: "List/watch failures of the extender's caches, by kind watched; each is restarted with backoff, and the cache is stale meanwhile.",
      labelNames: ["kind"],
      registers,
    });
    for (const kind of WATCHED_KINDS) this.watchFailures.inc({ kind }, 0);
    this.reserveRefusals = new Counter({
      name: "nls_extender_reserve_refusals_total",
      help: "Reserve calls refused as Insufficient: open-local's CSI driver gives the node back and the pod is scheduled again.",
      registers,
    });
    this.admittedPods = new Counter({
      name: "nls_extender_admission_pods_total",
      help: "Pods with claims the admission webhook answered, by whether it marked them for the extender (marked=true: a claim is, or may be, local).",
      labelNames: ["marked"],
      registers,
    });
    for (const marked of ["true", "false"]) this.admittedPods.inc({ marked }, 0);
    this.webhookCertificateFailures = new Counter({
      name: "nls_extender_webhook_certificate_failures_total",
      help: "Rounds of the webhook's certificate keeping (--webhook-certificate=secret) that failed, by step: read-configuration, read-secret, issue, write-secret, publish-ca-bundle. The certificate in use is kept meanwhile.",
      labelNames: ["step"],
      registers,
    });
    for (const step of SYNC_STEPS) this.webhookCertificateFailures.inc({ step }, 0);
    this.webhookCertificatesIssued = new Counter({
      name: "nls_extender_webhook_certificates_issued_total",
      help: "Certificates this replica issued into the webhook's Secret (what=ca or serving).",
      labelNames: ["what"],
      registers,
    });
    for (const what of ["ca", "serving"]) this.webhookCertificatesIssued.inc({ what }, 0);
    this.webhookCertificateExpiry = new Gauge({
      name: "nls_extender_webhook_certificate_expiry_timestamp_seconds",
      help: "When the serving certificate this replica's admission webhook serves expires (Unix time; absent until it serves one).",
      registers,
    });
    const feeds = () => this.feeds;
    /** A 0/1 gauge read at scrape time from whatever `source()` returns then (nothing until observed). */
    const yesNo = (name: string, help: string, source: () => (() => boolean) | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const read = source();
          if (read) this.set(read() ? 1 : 0);
        },
      });
    yesNo(
      "nls_extender_ready",
      "1 while this replica answers /readyz 200 (its caches are live, it is not stopping): it could serve if it led.",
      () => this.ready,
    );
    yesNo(
      "nls_extender_serving",
      "1 while this replica answers the scheduler routes: it leads and its Services' EndpointSlices name it (always, without --leader-elect).",
      () => this.serving,
    );
    new Gauge({
      name: "nls_extender_watch_unsynced_seconds",
      help: "Seconds each cache feed has been without a live list/watch (0 while up; since start until first synced).",
      labelNames: ["kind"],
      registers,
      collect() {
        const source = feeds();
        if (!source) return;
        const now = source.clock();
        for (const f of source.health()) this.set({ kind: f.kind }, unsyncedSeconds(f, now));
      },
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
    new Gauge({
      name: "nls_extender_unexplained_lv_bytes",
      help: "Bytes of LVs in a selected VG that no PV and no claim on its way accounts for (a Retain PV deleted, a failed provisioning, an LV made by hand, or what LVM gave a volume beyond its PV's size), counted as used until the agent no longer reports them.",
      labelNames: ["node", "vg"],
      registers,
      collect() {
        this.reset();
        for (const node of store.nodesWithUnexplainedLvs()) {
          const byVg = new Map<string, number>();
          for (const c of store.unexplainedLvs(node)) byVg.set(c.vg, (byVg.get(c.vg) ?? 0) + c.bytes);
          for (const [vg, bytes] of byVg) this.set({ node, vg }, bytes);
        }
      },
    });
    new Gauge({
      name: "nls_extender_vg_overcommitted_bytes",
      help: "Bytes committed in a selected VG beyond its allocatable: what filter and the reserve route never promise, so something the extender is not asked about put them there — a PVC expansion that does not fit, an LV no PV accounts for, a VG that shrank. Absent while nothing is over.",
      labelNames: ["node", "vg"],
      registers,
      collect() {
        this.reset();
        // The store keeps which nodes are over: walking all 5,000 here held the event loop for ~3 ms.
        for (const node of store.nodesOvercommitted()) {
          const state = store.record(node)?.state;
          if (state) for (const o of overcommittedVgs(state)) this.set({ node, vg: o.vg }, o.bytes);
        }
      },
    });
    new Counter({
      name: "nls_extender_reservations_misplaced_total",
      help: "Tentative reservations whose successor (selected-node, allocation, PV) landed on another node.",
      registers,
      collect() {
        this.reset();
        this.inc(store.ledger.misplaced);
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

  /** Where `nls_extender_ready` is read from at scrape time: what `/readyz` would answer. */
  observeReadiness(ready: () => boolean): void {
    this.ready = ready;
  }

  /** Where `nls_extender_serving` is read from at scrape time: whether the scheduler routes answer. */
  observeServing(serving: () => boolean): void {
    this.serving = serving;
  }

  /** Where `nls_extender_watch_unsynced_seconds{kind}` is read from at scrape time: the informers. */
  observeFeeds(health: () => FeedHealth[], clock: () => number): void {
    this.feeds = { health, clock };
  }

  /** The exposition text: nls' own metrics (prom-client), then open-local's per-node gauges. */
  async render(): Promise<string> {
    return Buffer.concat((await this.exposition(Number.POSITIVE_INFINITY))!).toString("utf8");
  }

  /**
   * The exposition text as buffers, built with the event loop given back whenever about `sliceMs` of
   * work went in since it last had a turn: at 5,000 nodes the open-local families are ~25,000 series
   * (megabytes of text, more with every PV), and building them in one go held every scheduling request
   * behind a scrape for tens of milliseconds. nls' own families are read one at a time for the same
   * reason (some walk every node). The open-local text is mostly buffers kept from the previous scrape.
   * Undefined, and nothing more built, once `abandoned()` says the caller left.
   */
  async exposition(sliceMs = SLICE_MS, abandoned: () => boolean = () => false): Promise<Buffer[] | undefined> {
    const spent = sliceBudget(sliceMs);
    // What `registry.metrics()` returns, one family per step.
    const own: string[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      own.push(await this.registry.getSingleMetricAsString(metric.name));
      if (!spent()) continue;
      await yieldToEventLoop();
      if (abandoned()) return undefined;
    }
    const refresh = this.openLocal.refresh(this.store, spent);
    for (let step = refresh.next(); ; step = refresh.next()) {
      if (step.done) return [Buffer.from(`${own.join("\n\n")}\n`), ...step.value];
      await yieldToEventLoop();
      if (abandoned()) return undefined;
    }
  }

  countFailures(failures: Record<FailureKind, number>): void {
    for (const k of FAILURE_KINDS) if (failures[k] > 0) this.failedNodes.inc({ reason: k }, failures[k]);
  }
}

/** The open-local families, in output order: name, type, help. */
const OPEN_LOCAL_FAMILIES = [
  ["local_volume_group_total", "untyped", "Allocatable bytes of a selected volume group (open-local compatible)."],
  [
    "local_volume_group_used",
    "gauge",
    "Committed bytes of a selected volume group: PVs, selected PVCs and reservations (open-local compatible).",
  ],
  [
    "local_device_total",
    "untyped",
    "Size in bytes of a selected free device, or of a device holding a volume (open-local compatible).",
  ],
  [
    "local_device_available",
    "gauge",
    "Size in bytes of a selected device while it is free, 0 once it holds a volume (open-local compatible).",
  ],
  ["local_device_bind", "gauge", "1 when the device holds a volume (open-local compatible)."],
  ["local_mount_point_total", "untyped", "Size in bytes of a selected mount point (open-local compatible)."],
  [
    "local_mount_point_available",
    "gauge",
    "Size in bytes of a selected mount point while it is free, 0 once it holds a volume (open-local compatible).",
  ],
  ["local_mount_point_bind", "gauge", "1 when a selected mount point holds a volume (open-local compatible)."],
  [
    "local_allocated_num",
    "gauge",
    "Local volumes counted on the node: PVs, reserved and selected PVCs, reservations (open-local compatible).",
  ],
] as const;

/**
 * open-local's extender gauges: the families and labels its Grafana dashboard reads (`local_*`; the
 * dashboard's node variable comes from `local_allocated_num`), rendered as text rather than through
 * prom-client: at 5,000 nodes these are ~25,000 series, plus one per PV, and prom-client's per-series
 * label handling blocked the event loop for hundreds of milliseconds per scrape.
 *
 * The text is kept encoded in blocks — every family's lines for BLOCK_NODES consecutive nodes, or the
 * lines of BLOCK_PVS PVs — each with the objects it was built from: a node's `NodeState` (the cache
 * replaces it on every NLS or ledger change of the node) or the PV object. A scrape reads each node's
 * state once, compares references, and rebuilds only the blocks whose objects were replaced; it walks
 * the PVs only when the store's `pvRevision` says one was added, replaced or removed. So between two
 * scrapes it mostly hands back buffers it already has. The three `*_total` families are typed
 * `untyped`: Prometheus treats them like gauges, and promtool's lint rejects a *gauge* named `_total`.
 */
export class OpenLocalGauges {
  private readonly nodeLines = new WeakMap<NodeState, string[]>();
  private readonly pvLines = new WeakMap<PvRecord, string>();
  /** Node list the node blocks were cut from (the store keeps the array until membership changes). */
  private names: readonly string[] = [];
  /** The store's record of each of `names` (records are never replaced, only their state). */
  private records: ReadonlyArray<NodeRecord | undefined> = [];
  private nodeBlocks: NodeBlock[] = [];
  private pvBlocks: PvBlock[] = [];
  /** The store's `pvRevision` the PV blocks were last brought up to date with. */
  private pvRevision = Number.NaN;

  render(store: ClusterStore): string {
    const refresh = this.refresh(store, () => false);
    let step = refresh.next();
    while (!step.done) step = refresh.next();
    return Buffer.concat(step.value).toString("utf8");
  }

  /**
   * Brings every block up to date and returns the whole text as buffers, in output order; yields
   * after a block whenever `spent()` says so, for the caller to give the event loop a turn. The node
   * list is read once, so every family covers the same nodes; each block holds its nodes' lines as of
   * the moment it is checked.
   */
  *refresh(store: ClusterStore, spent: () => boolean): Generator<void, Buffer[]> {
    const names = store.nodeNames();
    if (names !== this.names) {
      this.names = names;
      this.records = names.map((n) => store.record(n));
      this.nodeBlocks = [];
    }
    const blockCount = Math.ceil(names.length / BLOCK_NODES);
    for (let b = 0; b < blockCount; b++) {
      const from = b * BLOCK_NODES;
      const to = Math.min(names.length, from + BLOCK_NODES);
      const block = this.nodeBlocks[b];
      if (!block || !statesUnchanged(block.refs, this.records, from, to)) {
        this.nodeBlocks[b] = this.nodeBlock(names, from, to, store);
      }
      if (spent()) yield;
    }
    this.nodeBlocks.length = blockCount;

    // Walking 50,000 PVs to find none changed cost ~2 ms and ~2 MiB of garbage a scrape: the store
    // says whether any did. A change while this walk yields shows in the next scrape's revision.
    const pvRevision = store.pvRevision;
    if (pvRevision !== this.pvRevision) {
      let b = 0;
      let batch: PvRecord[] = [];
      const flushPvs = () => {
        const block = this.pvBlocks[b];
        if (!block || !sameRefs(block.refs, batch)) {
          const lines = batch.map((pv) => this.lineOf(pv)).filter(Boolean);
          this.pvBlocks[b] = { refs: batch, bytes: encodeLines(lines) };
        }
        b++;
        batch = [];
      };
      for (const pv of store.allPvs()) {
        batch.push(pv);
        if (batch.length === BLOCK_PVS) {
          flushPvs();
          if (spent()) yield;
        }
      }
      if (batch.length) flushPvs();
      this.pvBlocks.length = b;
      this.pvRevision = pvRevision;
    }

    const out: Buffer[] = [];
    OPEN_LOCAL_FAMILIES.forEach((_, f) => {
      out.push(FAMILY_HEADERS[f]!);
      for (const block of this.nodeBlocks) if (block.families[f]!.length) out.push(block.families[f]!);
    });
    out.push(PV_HEADER);
    for (const block of this.pvBlocks) if (block.bytes.length) out.push(block.bytes);
    return out;
  }

  private nodeBlock(names: readonly string[], from: number, to: number, store: ClusterStore): NodeBlock {
    const refs: Array<NodeState | undefined> = [];
    const lines: string[][] = OPEN_LOCAL_FAMILIES.map(() => []);
    for (let i = from; i < to; i++) {
      const state = this.records[i]?.state;
      refs.push(state);
      if (!state) continue;
      const nodeLines = this.linesOf(names[i]!, state, store);
      for (let f = 0; f < lines.length; f++) if (nodeLines[f]) lines[f]!.push(nodeLines[f]!);
    }
    return { refs, families: lines.map(encodeLines) };
  }

  private linesOf(name: string, state: NodeState, store: ClusterStore): string[] {
    let lines = this.nodeLines.get(state);
    if (!lines) {
      lines = nodeLines(name, state, store);
      this.nodeLines.set(state, lines);
    }
    return lines;
  }

  private lineOf(pv: PvRecord): string {
    let line = this.pvLines.get(pv);
    if (line === undefined) {
      line = pvLine(pv);
      this.pvLines.set(pv, line);
    }
    return line;
  }
}

const FAMILY_HEADERS = OPEN_LOCAL_FAMILIES.map(([name, type, help]) =>
  Buffer.from(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`),
);
const PV_HEADER = Buffer.from(
  "# HELP local_local_pv Size in bytes of a local PV (open-local compatible).\n# TYPE local_local_pv gauge\n",
);

/** Nodes and PVs per cached block of exposition text. */
const BLOCK_NODES = 100;
const BLOCK_PVS = 500;

/** Every family's lines for a run of nodes, and the states they were built from (compared by reference). */
interface NodeBlock {
  refs: ReadonlyArray<NodeState | undefined>;
  families: Buffer[];
}

/** The lines of a run of PVs, and the PV objects they were built from (compared by reference). */
interface PvBlock {
  refs: readonly PvRecord[];
  bytes: Buffer;
}

function statesUnchanged(
  refs: ReadonlyArray<NodeState | undefined>,
  records: ReadonlyArray<NodeRecord | undefined>,
  from: number,
  to: number,
): boolean {
  if (refs.length !== to - from) return false;
  for (let i = from; i < to; i++) if (refs[i - from] !== records[i]?.state) return false;
  return true;
}

function sameRefs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encodeLines = (lines: readonly string[]): Buffer =>
  lines.length ? Buffer.from(`${lines.join("\n")}\n`) : Buffer.alloc(0);

/** One node's lines, one string per family of OPEN_LOCAL_FAMILIES ("" when it has none). */
function nodeLines(name: string, state: NodeState, store: ClusterStore): string[] {
  const n = esc(name);
  const usage = store.ledger.usage(name);
  const view = state.view;
  // A device holding a volume stays in the device families after the agent sees it in use.
  const devices = [
    ...view.devices.filter((d) => d.kind === "device"),
    ...view.busyDevices.filter((d) => usage?.devices.has(d.name)),
  ];
  const mps = view.devices.filter((d) => d.kind === "mountpoint");
  const taken = (d: Unit) => usage?.devices.has(d.name) ?? false;
  const join = <T>(items: readonly T[], line: (x: T) => string) => items.map(line).join("\n");
  const sized = (family: string, d: Unit, value: number) =>
    `${family}{nodename="${n}",name="${esc(d.name)}",type="${esc(d.mediaType)}"} ${value}`;
  return [
    join(view.vgs, (vg) => `local_volume_group_total{nodename="${n}",vgname="${esc(vg.name)}"} ${vg.allocatable}`),
    join(
      view.vgs,
      (vg) => `local_volume_group_used{nodename="${n}",vgname="${esc(vg.name)}"} ${usage?.vg.get(vg.name) ?? 0}`,
    ),
    join(devices, (d) => sized("local_device_total", d, d.total)),
    join(devices, (d) => sized("local_device_available", d, taken(d) ? 0 : d.total)),
    join(devices, (d) => `local_device_bind{nodename="${n}",name="${esc(d.name)}"} ${taken(d) ? 1 : 0}`),
    join(mps, (d) => sized("local_mount_point_total", d, d.total)),
    join(mps, (d) => sized("local_mount_point_available", d, taken(d) ? 0 : d.total)),
    join(mps, (d) => `local_mount_point_bind{nodename="${n}",name="${esc(d.name)}"} ${taken(d) ? 1 : 0}`),
    `local_allocated_num{nodename="${n}"} ${usage?.volumes ?? 0}`,
  ];
}

function pvLine(pv: PvRecord): string {
  const a = pv.allocation;
  if (!a) return "";
  const labels = [
    `nodename="${esc(a.node)}"`,
    `pv_name="${esc(pv.name)}"`,
    `pv_type="${allocationType(a)}"`,
    `pvc_name="${esc(pv.claimName ?? "")}"`,
    `pvc_ns="${esc(pv.claimNamespace ?? "")}"`,
    `status="${esc(pv.phase ?? "")}"`,
    `storage_name="${esc(a.device ?? a.mountPoint ?? a.vg ?? "")}"`,
  ];
  return `local_local_pv{${labels.join(",")}} ${a.bytes}`;
}

/** Label value escaping of the text exposition format. */
const esc = (v: string): string =>
  /[\\"\n]/.test(v) ? v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : v;
