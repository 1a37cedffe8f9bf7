// `pnpm bench`: filter and prioritize over HTTP on loopback against the built server (5,000 nodes ×
// 2 VGs, pods with 4 PVCs, nodeCacheCapable bodies). Prints p50/p99/throughput; asserts nothing.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const NODES = Number(process.env.BENCH_NODES ?? 5000);
const PODS = Number(process.env.BENCH_PODS ?? 200);
const DURATION = Number(process.env.BENCH_DURATION ?? 8);

const child = spawn(process.execPath, [fileURLToPath(new URL("./server.mjs", import.meta.url))], {
  env: { ...process.env, BENCH_NODES: String(NODES), BENCH_PODS: String(PODS) },
  stdio: ["ignore", "pipe", "inherit"],
});
const [line] = await once(createInterface({ input: child.stdout }), "line");
const { port } = JSON.parse(line);

const nodeNames = Array.from({ length: NODES }, (_, i) => `node-${i}`);
const podBody = (p, withVolumes) =>
  JSON.stringify({
    Pod: {
      metadata: { name: `pod-${p}`, namespace: "bench", uid: `uid-${p}` },
      spec: {
        containers: [{ name: "app", image: "busybox" }],
        volumes: withVolumes
          ? [0, 1, 2, 3].map((k) => ({ name: `d${k}`, persistentVolumeClaim: { claimName: `pod-${p}-data-${k}` } }))
          : [{ name: "tmp", emptyDir: {} }],
      },
    },
    Nodes: null,
    NodeNames: nodeNames,
  });

const bodies = Array.from({ length: PODS }, (_, p) => podBody(p, true));
const run = (title, path, list) =>
  autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: Number(process.env.BENCH_CONNECTIONS ?? 1),
    duration: DURATION,
    requests: list.map((body) => ({ method: "POST", path, body, headers: { "content-type": "application/json" } })),
  }).then((r) => ({ title, r }));

const results = [];
for (const [title, path, list] of [
  ["filter, 4 PVCs", "/scheduler/predicates", bodies],
  ["prioritize, 4 PVCs", "/scheduler/priorities", bodies],
  ["filter, no local PVCs (pass-through)", "/scheduler/predicates", [podBody(0, false)]],
]) {
  results.push(await run(title, path, list));
}
child.kill("SIGTERM");

console.log(
  `\nnls-extender bench: ${NODES} nodes × 2 VGs, pods with 4 PVCs, NodeNames bodies of ${(bodies[0].length / 1024).toFixed(0)} KiB, ${DURATION}s each, ${process.env.BENCH_CONNECTIONS ?? 1} connection(s)`,
);
console.log("scenario                                  p50 ms   p99 ms   max ms   req/s    errors");
for (const { title, r } of results) {
  const l = r.latency;
  console.log(
    `${title.padEnd(40)} ${String(l.p50).padStart(7)} ${String(l.p99).padStart(8)} ${String(l.max).padStart(8)} ${r.requests.average.toFixed(0).padStart(7)} ${String(r.errors + r.non2xx).padStart(8)}`,
  );
}
