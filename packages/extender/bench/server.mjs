/* global setInterval, setImmediate */
// The BUILT extender with a cache filled directly: BENCH_NODES nodes × BENCH_VGS VGs, BENCH_PVS bound
// PVs, BENCH_PODS pods of 4 PVCs each (the pods the bench sends), and BENCH_BACKLOG more pending pods
// of 4 PVCs each whose claims sit in the cache (a scheduling backlog). PVs and PVCs are decoded from
// JSON shaped as the API server sends them (managedFields and all), one object each, as an informer
// holds them. Prints {"port": N} on stdout once listening. Started by run.mjs as a child process;
// answers its IPC questions ("stats": CPU, memory, event-loop delay and GC pauses since the last ask).
import { readFileSync } from "node:fs";
import v8 from "node:v8";
import { createHistogram, monitorEventLoopDelay, PerformanceObserver, performance } from "node:perf_hooks";
import { createLogger } from "@nls/daemon";
import { ANNOTATION_PV_ALLOCATED } from "@nls/api";
import { Gi, lease, nls, storageClass } from "@nls/testkit";
import { managedField } from "./managed-fields.mjs";

const DIST = process.env.BENCH_DIST ?? new URL("../dist/", import.meta.url).href;
const { ClusterStore } = await import(new URL("cache/store.js", DIST).href);
const { ExtenderMetrics } = await import(new URL("metrics.js", DIST).href);
const { createApp, listen } = await import(new URL("server.js", DIST).href);
// What the informers do to each object before the store sees it, and to their own copy after (an older
// build without them: nothing).
const trim = await import(new URL("cache/trim.js", DIST).href).catch(() => ({}));
const trimForCache = trim.trimForCache ?? ((o) => o);
const releaseAfterApply = trim.releaseAfterApply ?? (() => {});

const NODES = Number(process.env.BENCH_NODES ?? 5000);
const VGS = Number(process.env.BENCH_VGS ?? 2);
const PODS = Number(process.env.BENCH_PODS ?? 200);
const PVS = Number(process.env.BENCH_PVS ?? NODES);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 0);
/** Lease renewals applied per second (agents renew every ~10 s: NODES / 10 in a real cluster). */
const LEASE_RATE = Number(process.env.BENCH_LEASE_RATE ?? 0);

const store = new ClusterStore({ strategy: process.env.BENCH_STRATEGY ?? "binpack" });
store.applyStorageClass(storageClass("lvm", { volumeType: "LVM" }));
store.applyStorageClass(storageClass("lvm-pool0", { volumeType: "LVM", vgName: "pool-0" }));
const now = new Date();
for (let i = 0; i < NODES; i++) {
  const name = `node-${i}`;
  store.applyNls(
    nls(name, {
      vgs: Array.from({ length: VGS }, (_, v) => ({
        name: `pool-${v}`,
        allocatable: (v === 0 ? 200 + (i % 7) * 50 : 100 + ((i + v) % 5) * 20) * Gi,
      })),
    }),
  );
  store.applyLease(lease(name, now, 24 * 3600));
}

const managedFields = (manager) => [
  managedField(manager, {
    "f:metadata": { "f:annotations": { ".": {}, "f:pv.kubernetes.io/provisioned-by": {} } },
    "f:spec": { "f:accessModes": {}, "f:capacity": { ".": {}, "f:storage": {} }, "f:csi": {}, "f:nodeAffinity": {} },
  }),
  managedField("kube-controller-manager", { "f:status": { "f:phase": {} } }, { subresource: "status" }),
];

/** A bound local PV as the API server returns it; every 10th node nearly full (its first VG). */
function pvJson(i) {
  const node = i % NODES;
  const perNode = Math.max(1, Math.round(PVS / NODES));
  const usedGi = node % 10 === 0 ? 190 : (node * 37) % 150;
  const gi = Math.max(1, Math.floor(usedGi / perNode));
  const claim = { namespace: "data", name: `data-${i}`, uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}` };
  return JSON.stringify({
    metadata: {
      name: `pv-${i}`,
      uid: `10000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      resourceVersion: String(100000 + i),
      creationTimestamp: "2026-11-29T10:00:00Z",
      annotations: {
        "pv.kubernetes.io/provisioned-by": "local.csi.aliyun.com",
        "volume.kubernetes.io/provisioner-deletion-secret-name": "",
        [ANNOTATION_PV_ALLOCATED]: JSON.stringify({ vgName: "pool-0", volumeType: "LVM" }),
      },
      finalizers: ["kubernetes.io/pv-protection", "external-provisioner.volume.kubernetes.io/finalizer"],
      managedFields: managedFields("csi-provisioner"),
    },
    spec: {
      capacity: { storage: `${gi}Gi` },
      csi: {
        driver: "local.csi.aliyun.com",
        volumeHandle: `disk-${claim.uid}`,
        fsType: "ext4",
        volumeAttributes: {
          "csi.storage.k8s.io/pv/name": `pv-${i}`,
          "csi.storage.k8s.io/pvc/name": claim.name,
          "csi.storage.k8s.io/pvc/namespace": claim.namespace,
          "storage.kubernetes.io/csiProvisionerIdentity": "1764410000000-8081-local.csi.aliyun.com",
          vgName: "pool-0",
          volumeType: "LVM",
        },
      },
      accessModes: ["ReadWriteOnce"],
      claimRef: { kind: "PersistentVolumeClaim", apiVersion: "v1", resourceVersion: "1", ...claim },
      persistentVolumeReclaimPolicy: "Delete",
      storageClassName: "lvm-pool0",
      volumeMode: "Filesystem",
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [`node-${node}`] }] },
          ],
        },
      },
    },
    status: { phase: "Bound", lastPhaseTransitionTime: "2026-11-29T10:00:01Z" },
  });
}

/** A pending PVC of a WaitForFirstConsumer class, as the API server returns it. */
function pvcJson(namespace, name, className, size, n) {
  return JSON.stringify({
    metadata: {
      name,
      namespace,
      uid: `20000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      resourceVersion: String(500000 + n),
      creationTimestamp: "2026-11-29T10:00:00Z",
      labels: { app: namespace },
      finalizers: ["kubernetes.io/pvc-protection"],
      managedFields: managedFields("kube-controller-manager"),
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      storageClassName: className,
      volumeMode: "Filesystem",
    },
    status: { phase: "Pending" },
  });
}

// The informer keeps its own copy of every PV it delivered (client-node's ListWatch cache).
const informerCopies = new Map();
for (let i = 0; i < PVS; i++) {
  const volume = trimForCache(JSON.parse(pvJson(i)), "PersistentVolume");
  store.applyPv(volume);
  releaseAfterApply(volume, "PersistentVolume");
  informerCopies.set(volume.metadata.name, volume);
}
let pvcs = 0;
const podClaims = (namespace, p) => {
  for (let k = 0; k < 4; k++) {
    const json = pvcJson(namespace, `pod-${p}-data-${k}`, k === 0 ? "lvm-pool0" : "lvm", `${10 + k * 5}Gi`, pvcs++);
    store.applyPvc(trimForCache(JSON.parse(json), "PersistentVolumeClaim"));
  }
};
for (let p = 0; p < PODS; p++) podClaims("bench", p);
for (let p = 0; p < BACKLOG; p++) podClaims("backlog", p);

const metrics = new ExtenderMetrics(store, { version: "bench", commit: "bench" }, { defaultMetrics: true });
const app = createApp({
  store,
  metrics,
  log: createLogger("nls-extender", "warn"),
  reservationTtlMs: 60_000,
  placement: process.env.BENCH_PLACEMENT ?? "decide",
  maxBodyBytes: 64 * 1024 * 1024,
  writer: { annotate: async () => {} },
  // The bench never calls the reserve route.
  pods: { inNamespace: async () => [] },
  now: Date.now,
  notReady: () => undefined,
  notServing: () => undefined,
  build: { version: "bench", commit: "bench" },
});
const server = await listen(app, 0, "127.0.0.1");

if (LEASE_RATE > 0) {
  // What the Lease informer delivers: a freshly decoded object per renewal, round-robin over nodes.
  let next = 0;
  const tick = 100;
  setInterval(() => {
    const renewTime = new Date().toISOString();
    for (let k = 0; k < (LEASE_RATE * tick) / 1000; k++) {
      const l = lease(`node-${next++ % NODES}`, new Date(), 40);
      l.spec.renewTime = renewTime;
      store.applyLease(trimForCache(JSON.parse(JSON.stringify(l)), "Lease"));
    }
  }, tick).unref();
}

// CPU time of each request, read to the end of the reply (all threads: GC helpers too). Unlike wall
// time it does not count the time this process waited for a core, which on a shared machine is most
// of the tail.
const requestCpu = createHistogram();
server.server.prependListener("request", (_req, res) => {
  const start = process.cpuUsage();
  res.once("finish", () => {
    const used = process.cpuUsage(start);
    requestCpu.record(Math.max(1, used.user + used.system));
  });
});

// Event-loop delay at 1 ms resolution: its max is the longest the loop was blocked.
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
let gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    // NODE_PERFORMANCE_GC_MAJOR = 4 (mark-sweep-compact).
    if (e.detail?.kind === 4) gc.major++;
    probe?.gcs.push({ from: e.startTime, to: e.startTime + e.duration });
  }
}).observe({ entryTypes: ["gc"] });

// Between "probe" and "probe-end": each event-loop turn's CPU time and wall time, through a setImmediate
// chain. CPU of all threads counts V8's helpers too (concurrent marking and sweeping, compilation), which
// run beside the loop rather than in it; the loop's own thread's CPU is read from Linux's schedstat (in
// ns; `process.cpuUsage()` first brings the calling thread's figure up to date), undefined elsewhere.
// The longest turn on the loop's thread is how long a scrape held the loop in work of its own; its wall
// time adds the waits for a core. The GC pauses inside it tell whether it was the scrape or a collection.
const MAIN_SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const mainThreadMs = () => {
  try {
    return Number(readFileSync(MAIN_SCHEDSTAT, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return undefined;
  }
};
let probe;
const probeTurn = () => {
  if (!probe) return;
  const cpu = process.cpuUsage();
  const main = mainThreadMs();
  const at = performance.now();
  const cpuMs = (cpu.user + cpu.system - probe.cpu.user - probe.cpu.system) / 1000;
  const mainMs = main === undefined ? cpuMs : main - probe.main;
  if (mainMs > probe.maxMainMs) probe.longest = { from: probe.at, to: at };
  probe.maxMainMs = Math.max(probe.maxMainMs, mainMs);
  probe.maxCpuMs = Math.max(probe.maxCpuMs, cpuMs);
  probe.maxWallMs = Math.max(probe.maxWallMs, at - probe.at);
  probe.totalCpuMs += cpuMs;
  probe.totalMainMs += mainMs;
  probe.cpu = cpu;
  probe.main = main;
  probe.at = at;
  setImmediate(probeTurn);
};

process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
process.on("message", (m) => {
  if (m === "snapshot") {
    // A heap snapshot beside the working directory, for finding what a run retains (BENCH_SNAPSHOT).
    process.send?.({ file: v8.writeHeapSnapshot() });
    return;
  }
  if (m === "probe") {
    const at = performance.now();
    probe = {
      cpu: process.cpuUsage(),
      main: mainThreadMs(),
      at,
      maxMainMs: 0,
      totalMainMs: 0,
      maxCpuMs: 0,
      maxWallMs: 0,
      totalCpuMs: 0,
      longest: { from: at, to: at },
      gcs: [],
    };
    setImmediate(probeTurn);
    process.send?.({});
    return;
  }
  if (m === "probe-end") {
    const { maxMainMs, totalMainMs, maxCpuMs, maxWallMs, totalCpuMs, longest, gcs } = probe;
    probe = undefined;
    const overlap = (g) => Math.max(0, Math.min(g.to, longest.to) - Math.max(g.from, longest.from));
    const turnGcMs = gcs.reduce((ms, g) => ms + overlap(g), 0);
    process.send?.({ maxMainMs, totalMainMs, maxCpuMs, maxWallMs, totalCpuMs, turnGcMs });
    return;
  }
  if (m === "gc") {
    // The live heap: only with --expose-gc (BENCH_NODE_OPTIONS), for finding a leak.
    globalThis.gc?.();
    process.send?.({ heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20 });
    return;
  }
  if (m === "stats") {
    const mem = process.memoryUsage();
    process.send?.({
      cpu: process.cpuUsage(),
      rssMiB: mem.rss / 2 ** 20,
      heapUsedMiB: mem.heapUsed / 2 ** 20,
      loopMaxMs: loop.max / 1e6,
      loopP99Ms: loop.percentile(99) / 1e6,
      requestCpuMs: {
        p50: requestCpu.count ? requestCpu.percentile(50) / 1000 : 0,
        p99: requestCpu.count ? requestCpu.percentile(99) / 1000 : 0,
        max: requestCpu.count ? requestCpu.max / 1000 : 0,
      },
      gc,
      at: performance.now(),
    });
    loop.reset();
    requestCpu.reset();
    gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
  }
});
