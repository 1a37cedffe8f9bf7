// The BUILT extender with a cache filled directly: NODES nodes × 2 VGs, PODS pods of 4 PVCs each.
// Prints {"port": N} on stdout once listening. Started by run.mjs as a child process.
import { createLogger } from "@nls/daemon";
import { ClusterStore } from "../dist/cache/store.js";
import { Gi, lease, nls, pv, pvc, storageClass } from "@nls/testkit";
import { ExtenderMetrics } from "../dist/metrics.js";
import { createApp, listen } from "../dist/server.js";

const NODES = Number(process.env.BENCH_NODES ?? 5000);
const PODS = Number(process.env.BENCH_PODS ?? 200);

const store = new ClusterStore({ strategy: process.env.BENCH_STRATEGY ?? "binpack" });
store.applyStorageClass(storageClass("lvm", { volumeType: "LVM" }));
store.applyStorageClass(storageClass("lvm-pool0", { volumeType: "LVM", vgName: "pool-0" }));
const now = new Date();
for (let i = 0; i < NODES; i++) {
  const name = `node-${i}`;
  // Varied fill so scores differ and some nodes fail: every 10th node is nearly full.
  store.applyNls(
    nls(name, {
      vgs: [
        { name: "pool-0", allocatable: (200 + (i % 7) * 50) * Gi },
        { name: "pool-1", allocatable: (100 + (i % 5) * 20) * Gi },
      ],
    }),
  );
  store.applyLease(lease(name, now, 24 * 3600));
  const usedGi = i % 10 === 0 ? 190 : (i * 37) % 150;
  store.applyPv(pv(`pv-${i}`, { node: name, size: `${usedGi}Gi`, vgName: "pool-0" }));
}
for (let p = 0; p < PODS; p++) {
  for (let k = 0; k < 4; k++) {
    store.applyPvc(
      pvc("bench", `pod-${p}-data-${k}`, { className: k === 0 ? "lvm-pool0" : "lvm", size: `${10 + k * 5}Gi` }),
    );
  }
}

const app = createApp({
  store,
  metrics: new ExtenderMetrics(store),
  log: createLogger("nls-extender", "warn"),
  reservationTtlMs: 60_000,
  placement: process.env.BENCH_PLACEMENT ?? "decide",
  maxBodyBytes: 10 * 1024 * 1024,
  writer: { annotate: async () => {} },
  // The bench never calls the reserve route.
  pods: { inNamespace: async () => [] },
  now: Date.now,
  ready: () => true,
  build: { version: "bench", commit: "bench" },
});
const server = await listen(app, 0, "127.0.0.1");
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
// CPU time is less distorted than wall time on a shared machine: run.mjs asks for it per scenario.
process.on("message", (m) => {
  if (m === "cpu") process.send?.(process.cpuUsage());
});
