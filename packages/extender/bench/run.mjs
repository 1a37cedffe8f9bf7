/* global fetch, performance */
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

const child = spawn(
  process.execPath,
  [
    ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    fileURLToPath(new URL("./server.mjs", import.meta.url)),
  ],
  {
    env: { ...process.env, BENCH_NODES: String(NODES), BENCH_PODS: String(PODS) },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  },
);
const [line] = await once(createInterface({ input: child.stdout }), "line");
const { port } = JSON.parse(line);

const nodeNames = Array.from({ length: NODES }, (_, i) => `node-${i}`);
const podBody = (p, withVolumes, names = nodeNames) =>
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
    NodeNames: names,
  });

const bodies = Array.from({ length: PODS }, (_, p) => podBody(p, true));
// What kube-scheduler does per pod: filter on every node, then prioritize exactly the nodes filter
// let through (taken from filter's reply), so prioritize can reuse filter's scores.
const pairs = Array.from({ length: PODS }, (_, p) => [
  {
    path: "/scheduler/predicates",
    body: bodies[p],
    onResponse: (status, body, context) => {
      context.passing = status === 200 ? JSON.parse(body).NodeNames : nodeNames;
    },
  },
  {
    path: "/scheduler/priorities",
    setupRequest: (req, context) => ({ ...req, body: podBody(p, true, context.passing ?? nodeNames) }),
  },
]).flat();

const run = (title, path, list) =>
  autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: Number(process.env.BENCH_CONNECTIONS ?? 1),
    duration: DURATION,
    requests: list.map((r) => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      ...(typeof r === "string" ? { path, body: r } : r),
    })),
  }).then((r) => ({ title, r }));

/** Server-side handler time (parse done, reply serialised) from the extender's own histogram. */
async function handlerSeconds(verb) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const get = (what) =>
    Number(
      new RegExp(`^nls_extender_request_duration_seconds_${what}\\{verb="${verb}"\\} (\\S+)$`, "m").exec(text)?.[1] ??
        0,
    );
  return { sum: get("sum"), count: get("count") };
}

const cpuMicros = async () => {
  child.send("cpu");
  const [u] = await once(child, "message");
  return u.user + u.system;
};

const results = [];
for (const [title, verb, path, list] of [
  ["filter, 4 PVCs", "filter", "/scheduler/predicates", bodies],
  ["prioritize, 4 PVCs", "prioritize", "/scheduler/priorities", bodies],
  ["filter, no local PVCs (pass-through)", "filter", "/scheduler/predicates", [podBody(0, false)]],
  ["filter→prioritize pairs (prioritize shown)", "prioritize", "", pairs],
].filter(([, verb]) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY === verb)) {
  const before = await handlerSeconds(verb);
  const cpuBefore = await cpuMicros();
  const { r } = await run(title, path, list);
  const cpuMs = (await cpuMicros()) - cpuBefore;
  const after = await handlerSeconds(verb);
  const handlerMs = ((after.sum - before.sum) / Math.max(1, after.count - before.count)) * 1000;
  results.push({ title, r, handlerMs, cpuMs: cpuMs / 1000 / Math.max(1, r.requests.total) });
}
/** Wall time of one GET /metrics; the first after start renders every node, later ones reuse lines. */
async function scrape() {
  const start = performance.now();
  const bytes = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).length;
  return { ms: performance.now() - start, bytes };
}
const scrapes = [await scrape(), await scrape(), await scrape()];
child.kill("SIGTERM");

console.log(
  `\nnls-extender bench: ${NODES} nodes × 2 VGs, pods with 4 PVCs, NodeNames bodies of ${(bodies[0].length / 1024).toFixed(0)} KiB, ${DURATION}s each, ${process.env.BENCH_CONNECTIONS ?? 1} connection(s)`,
);
console.log(
  "scenario                                  p50 ms   p99 ms   max ms   req/s   handler mean ms   server CPU ms/req   errors",
);
for (const { title, r, handlerMs, cpuMs } of results) {
  const l = r.latency;
  console.log(
    `${title.padEnd(40)} ${String(l.p50).padStart(7)} ${String(l.p99).padStart(8)} ${String(l.max).padStart(8)} ${r.requests.average.toFixed(0).padStart(7)} ${handlerMs.toFixed(2).padStart(17)} ${cpuMs.toFixed(2).padStart(19)} ${String(r.errors + r.non2xx).padStart(8)}`,
  );
}
console.log(
  `GET /metrics, three in a row after the runs (${(scrapes[0].bytes / 1024 / 1024).toFixed(1)} MiB): ${scrapes.map((s) => `${s.ms.toFixed(0)} ms`).join(", ")}`,
);
console.log(
  `load average during the run: ${(await import("node:os"))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")} on ${(await import("node:os")).cpus().length} CPUs`,
);
