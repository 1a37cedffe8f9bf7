/* global fetch, performance, setTimeout, setInterval, clearInterval */
// `pnpm bench`: filter and prioritize over HTTP on loopback against the built server (5,000 nodes with
// 2 and then 4 VGs, pods with 4 PVCs, nodeCacheCapable bodies), /metrics scrapes, and the
// nodeCacheCapable: false body next to a bare JSON.parse of it. Prints one table per VG count and
// writes the figures as JSON under bench/results/ (and to $NLS_BENCH_DIR/extender.json when set);
// asserts nothing (a run with errors exits 1).
// BENCH_SOAK=<seconds> instead runs filter→prioritize pairs for that long against 50,000 PVs and a
// backlog of 5,000 pending pods and prints RSS over time (the knobs: README.md, "Speed").
// The server runs with the Node flags of the image's entry point (the Dockerfile's nls-extender, which
// deploy/'s Deployment runs); BENCH_NODE_OPTIONS replaces them ("" for none).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { repositoryImageNodeFlags } from "@nls/testkit";
import autocannon from "autocannon";
import { managedField } from "./managed-fields.mjs";

const env = process.env;
const NODES = Number(env.BENCH_NODES ?? 5000);
const PODS = Number(env.BENCH_PODS ?? 200);
const DURATION = Number(env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 1);
/** Requests per second for every scenario (0: as fast as the server answers). */
const RATE = Number(env.BENCH_RATE ?? 0);
const VG_COUNTS = (env.BENCH_VGS ?? "2,4").split(",").map(Number);
const SOAK = Number(env.BENCH_SOAK ?? 0);
const NODE_FLAGS =
  env.BENCH_NODE_OPTIONS === undefined
    ? repositoryImageNodeFlags("extender")
    : env.BENCH_NODE_OPTIONS.split(" ").filter(Boolean);

async function startServer(extraEnv) {
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      ...(env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : []),
      fileURLToPath(new URL("./server.mjs", import.meta.url)),
    ],
    {
      env: { ...env, BENCH_NODES: String(NODES), BENCH_PODS: String(PODS), ...extraEnv },
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    },
  );
  // The port line, and anything else the server prints (--trace-gc) to stderr: the pipe never fills.
  const port = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (l) => {
      if (l.startsWith('{"port":')) resolve(JSON.parse(l).port);
      else process.stderr.write(`${l}\n`);
    });
  });
  /** CPU, memory, event-loop delay and GC since the previous call (the server resets them). */
  const stats = async () => {
    child.send("stats");
    const [s] = await once(child, "message");
    return s;
  };
  await stats();
  return { child, port, stats, url: `http://127.0.0.1:${port}` };
}

const nodeNames = Array.from({ length: NODES }, (_, i) => `node-${i}`);
const pod = (p, withVolumes, namespace = "bench") => ({
  metadata: { name: `pod-${p}`, namespace, uid: `uid-${namespace}-${p}` },
  spec: {
    containers: [{ name: "app", image: "busybox" }],
    volumes: withVolumes
      ? [0, 1, 2, 3].map((k) => ({ name: `d${k}`, persistentVolumeClaim: { claimName: `pod-${p}-data-${k}` } }))
      : [{ name: "tmp", emptyDir: {} }],
  },
});
const podBody = (p, withVolumes, names = nodeNames) =>
  JSON.stringify({ Pod: pod(p, withVolumes), Nodes: null, NodeNames: names });
const bodies = Array.from({ length: PODS }, (_, p) => podBody(p, true));

/** `names` in a pseudo-random order fixed by `seed` (mulberry32 and Fisher–Yates): every run sends the same. */
function shuffled(names, seed) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...names];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// The real kube-scheduler lists the nodes its own filters kept in the order its parallel workers
// finished, so the same nodes come in another order from pod to pod, and the NodeNames cache (which
// learns a list the second time it sees it among the last 4) misses. ORDERS orders sent in turn make
// every request a miss: the cost a pod pays behind a real kube-scheduler.
const ORDERS = 16;
const orders = Array.from({ length: ORDERS }, (_, k) => shuffled(nodeNames, k + 1));
const reorderedBodies = Array.from({ length: PODS }, (_, p) => podBody(p, true, orders[p % ORDERS]));
const reorderedPassThrough = orders.map((names, k) => podBody(k, false, names));

// What kube-scheduler does per pod: filter on every node, then prioritize exactly the nodes filter let
// through (taken from filter's reply; with --placement=decide that is one node, and kube-scheduler
// would not call prioritize at all).
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

const load = (url, path, list, duration) =>
  autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    ...(RATE ? { overallRate: RATE } : {}),
    requests: list.map((r) => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      ...(typeof r === "string" ? { path, body: r } : r),
    })),
  });

/** Server-side handler time (parse done, reply serialised) from the extender's own histogram. */
async function handlerSeconds(url, verb) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (what) =>
    Number(
      new RegExp(`^nls_extender_request_duration_seconds_${what}\\{verb="${verb}"\\} (\\S+)$`, "m").exec(text)?.[1] ??
        0,
    );
  return { sum: get("sum"), count: get("count") };
}

const cpuMs = (a, b) => (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000;

async function scenarios(server) {
  const out = [];
  for (const [title, verb, path, list] of [
    ["filter, 4 PVCs", "filter", "/scheduler/predicates", bodies],
    ["prioritize, 4 PVCs (all nodes)", "prioritize", "/scheduler/priorities", bodies],
    ["filter, no local PVCs (pass-through)", "filter", "/scheduler/predicates", [podBody(0, false)]],
    ["nodes reordered per request: filter, 4 PVCs", "filter", "/scheduler/predicates", reorderedBodies],
    [
      "nodes reordered per request: filter, no local PVCs (pass-through)",
      "filter",
      "/scheduler/predicates",
      reorderedPassThrough,
    ],
    ["filter→prioritize pairs (prioritize's handler)", "prioritize", "", pairs],
  ].filter(
    ([title, verb]) =>
      (!env.BENCH_ONLY || env.BENCH_ONLY === verb) && (!env.BENCH_SCENARIO || title.includes(env.BENCH_SCENARIO)),
  )) {
    const before = await handlerSeconds(server.url, verb);
    const s0 = await server.stats();
    const r = await load(server.url, path, list, DURATION);
    const s1 = await server.stats();
    const after = await handlerSeconds(server.url, verb);
    const errors = r.errors + r.non2xx;
    out.push({
      title,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      rps: Math.round(r.requests.average),
      requests: r.requests.total,
      handlerMeanMs: ((after.sum - before.sum) / Math.max(1, after.count - before.count)) * 1000,
      cpuMsPerReq: cpuMs(s0, s1) / Math.max(1, r.requests.total),
      requestCpuMs: s1.requestCpuMs,
      gcCount: s1.gc.count,
      gcMaxMs: s1.gc.maxMs,
      gcMsPerReq: s1.gc.totalMs / Math.max(1, r.requests.total),
      loopMaxMs: s1.loopMaxMs,
      rssMiB: s1.rssMiB,
      errors,
    });
  }
  return out;
}

/**
 * Six scrapes, one every 200 ms, of a server otherwise idle. For each: wall time; the longest the server's
 * event loop was blocked in the 200 ms around it, and in the 200 ms before it with no scrape (the
 * machine's own noise: on a shared machine a busy process waits for a core); and, from a probe turning
 * the server's event loop, the longest turn's CPU time on the loop's own thread (the scrape's own
 * longest hold on the loop, which waiting for a core does not inflate), with the GC pauses inside that
 * turn, and the longest turn's and the whole scrape's CPU time in all threads (V8's helpers too). The first scrape after
 * start builds every line; later ones reuse what did not change, so figures over scrapes 2–6 are the
 * steady state.
 */
async function scrapes(server) {
  const walls = [];
  const loops = [];
  const quiet = [];
  const turnCpu = [];
  const turnMain = [];
  const turnGc = [];
  const cpu = [];
  const ask = async (m) => {
    server.child.send(m);
    return (await once(server.child, "message"))[0];
  };
  let bytes = 0;
  for (let i = 0; i < 6; i++) {
    await server.stats();
    await new Promise((r) => setTimeout(r, 200));
    quiet.push((await server.stats()).loopMaxMs);
    await ask("probe");
    const start = performance.now();
    bytes = (await (await fetch(`${server.url}/metrics`)).arrayBuffer()).byteLength;
    walls.push(performance.now() - start);
    const p = await ask("probe-end");
    turnCpu.push(p.maxCpuMs);
    turnMain.push(p.maxMainMs ?? p.maxCpuMs);
    turnGc.push(p.turnGcMs ?? 0);
    cpu.push(p.totalCpuMs);
    await new Promise((r) => setTimeout(r, Math.max(0, 200 - walls.at(-1))));
    loops.push((await server.stats()).loopMaxMs);
  }
  const steady = (xs) => Math.max(...xs.slice(1));
  return {
    bytes,
    walls,
    loops,
    quietLoops: quiet,
    turnCpuMs: turnCpu,
    turnMainMs: turnMain,
    turnGcMs: turnGc,
    cpuMs: cpu,
    loopMaxMs: steady(loops),
    quietLoopMaxMs: steady(quiet),
    turnCpuMaxMs: steady(turnCpu),
    turnMainMaxMs: steady(turnMain),
  };
}

/** A Node object about the size kube-scheduler sends (~4 KiB: labels, managedFields, images). */
const fullNode = (name) => ({
  metadata: {
    name,
    uid: `30000000-0000-4000-8000-${name.padStart(12, "0").slice(-12)}`,
    resourceVersion: "123456",
    creationTimestamp: "2026-11-01T10:00:00Z",
    labels: {
      "beta.kubernetes.io/arch": "amd64",
      "beta.kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "kubernetes.io/hostname": name,
      "kubernetes.io/os": "linux",
      "node.kubernetes.io/instance-type": "ecs.g7.4xlarge",
      "topology.kubernetes.io/region": "cn-hangzhou",
      "topology.kubernetes.io/zone": "cn-hangzhou-k",
    },
    annotations: {
      "node.alpha.kubernetes.io/ttl": "0",
      "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      "csi.volume.kubernetes.io/nodeid": JSON.stringify({ "local.csi.aliyun.com": name }),
    },
    managedFields: ["kubelet", "kube-controller-manager", "kubeadm"].map((manager) =>
      managedField(manager, {
        "f:metadata": { "f:labels": { "f:kubernetes.io/hostname": {}, "f:kubernetes.io/os": {} } },
        "f:status": { "f:conditions": { 'k:{"type":"Ready"}': { "f:lastHeartbeatTime": {}, "f:status": {} } } },
      }),
    ),
  },
  spec: { podCIDR: "10.244.3.0/24", podCIDRs: ["10.244.3.0/24"], providerID: `alicloud://${name}` },
  status: {
    capacity: { cpu: "16", "ephemeral-storage": "102687672Ki", memory: "65535788Ki", pods: "110" },
    allocatable: { cpu: "15890m", "ephemeral-storage": "94636958600", memory: "60815148Ki", pods: "110" },
    conditions: ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map((type) => ({
      type,
      status: type === "Ready" ? "True" : "False",
      lastHeartbeatTime: "2026-11-29T10:00:00Z",
      lastTransitionTime: "2026-11-01T10:00:00Z",
      reason: `Kubelet${type}`,
      message: `kubelet reports ${type}`,
    })),
    addresses: [
      { type: "InternalIP", address: "10.0.3.17" },
      { type: "Hostname", address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: "f1e2d3c4b5a697887766554433221100",
      systemUUID: "ec2b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d",
      bootID: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
      kernelVersion: "5.10.134-16.al8.x86_64",
      osImage: "Alibaba Cloud Linux 3",
      containerRuntimeVersion: "containerd://1.7.22",
      kubeletVersion: "v1.34.4",
      kubeProxyVersion: "",
      operatingSystem: "linux",
      architecture: "amd64",
    },
    images: Array.from({ length: 12 }, (_, i) => ({
      names: [
        `registry.example.com/team-${i}/service-${i}@sha256:${"ab12".repeat(16)}`,
        `registry.example.com/team-${i}/service-${i}:v1.${i}.0`,
      ],
      sizeBytes: 50_000_000 + i * 1_000_000,
    })),
  },
});

/** nodeCacheCapable: false — whole Node objects in and (for what passes) out, next to a bare JSON.parse. */
async function fullNodes(server) {
  const list = { metadata: { resourceVersion: "" }, items: nodeNames.map(fullNode) };
  const withPvcs = JSON.stringify({ Pod: pod(0, true), Nodes: list, NodeNames: null });
  const passThrough = JSON.stringify({ Pod: pod(0, false), Nodes: list, NodeNames: null });
  const parseMs = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    JSON.parse(passThrough);
    parseMs.push(performance.now() - t);
  }
  const out = { bodyMiB: passThrough.length / 2 ** 20, parseMs: Math.min(...parseMs), cases: [] };
  for (const [title, body] of [
    ["filter, 4 PVCs", withPvcs],
    ["filter, pass-through", passThrough],
  ]) {
    const walls = [];
    const s0 = await server.stats();
    for (let i = 0; i < 8; i++) {
      const t = performance.now();
      const res = await fetch(`${server.url}/scheduler/predicates`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${title}: ${res.status} ${text.slice(0, 200)}`);
      walls.push(performance.now() - t);
    }
    const s1 = await server.stats();
    walls.sort((a, b) => a - b);
    out.cases.push({ title, medianMs: walls[4], maxMs: walls.at(-1), cpuMsPerReq: cpuMs(s0, s1) / 8 });
  }
  return out;
}

const fmt = (x, d = 0) => (typeof x === "number" ? x.toFixed(d) : String(x));

function printConfig(vgs, rows, scrape, full) {
  console.log(
    `\n${NODES} nodes × ${vgs} VGs, pods with 4 PVCs, NodeNames bodies of ${(bodies[0].length / 1024).toFixed(0)} KiB, ${DURATION} s each, ${CONNECTIONS} connection(s)${RATE ? `, ${RATE} requests/s` : ""}`,
  );
  console.log(
    "scenario                                         p50 ms  p99 ms  max ms   req/s  handler ms  CPU ms/req  CPU p99 ms  GC ms/req  GC max ms  loop max ms  errors",
  );
  for (const r of rows) {
    console.log(
      `${r.title.padEnd(47)} ${fmt(r.p50).padStart(7)} ${fmt(r.p99).padStart(7)} ${fmt(r.max).padStart(7)} ${fmt(r.rps).padStart(7)} ${fmt(r.handlerMeanMs, 2).padStart(11)} ${fmt(r.cpuMsPerReq, 2).padStart(11)} ${fmt(r.requestCpuMs.p99, 2).padStart(11)} ${fmt(r.gcMsPerReq, 3).padStart(10)} ${fmt(r.gcMaxMs, 1).padStart(10)} ${fmt(r.loopMaxMs, 0).padStart(12)} ${fmt(r.errors).padStart(7)}`,
    );
  }
  const list = (xs, d = 0) => xs.map((x) => x.toFixed(d)).join(", ");
  console.log(
    `GET /metrics (${(scrape.bytes / 2 ** 20).toFixed(1)} MiB), six scrapes: ${list(scrape.walls)} ms; longest event-loop turn's CPU on the loop's thread ${list(scrape.turnMainMs, 1)} ms (GC pauses in it ${list(scrape.turnGcMs, 1)} ms), in all threads ${list(scrape.turnCpuMs, 1)} ms (whole scrape ${list(scrape.cpuMs, 0)} ms CPU); event loop blocked at most ${list(scrape.loops)} ms (200 ms before each, no scrape: ${list(scrape.quietLoops)} ms)`,
  );
  if (full) {
    console.log(
      `nodeCacheCapable: false (${full.bodyMiB.toFixed(1)} MiB of Node objects; bare JSON.parse of the body: ${full.parseMs.toFixed(0)} ms): ${full.cases.map((c) => `${c.title} median ${c.medianMs.toFixed(0)} ms (max ${c.maxMs.toFixed(0)}, server CPU ${c.cpuMsPerReq.toFixed(0)} ms)`).join("; ")}`,
    );
  }
}

const machine = () => ({
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  node: process.version,
  date: new Date().toISOString(),
  loadavg: os.loadavg().map((x) => Number(x.toFixed(1))),
  nodeOptions: NODE_FLAGS.join(" "),
});

function save(kind, figures) {
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${kind}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`, dir);
  const json = `${JSON.stringify({ machine: machine(), nodes: NODES, ...figures }, null, 2)}\n`;
  writeFileSync(file, json);
  console.log(`figures written to ${fileURLToPath(file)}`);
  // The root `pnpm bench` collects each part's figures from $NLS_BENCH_DIR.
  if (env.NLS_BENCH_DIR) writeFileSync(join(env.NLS_BENCH_DIR, kind === "soak" ? "soak.json" : "extender.json"), json);
}

/** Sustained filter→prioritize pairs with a /metrics scrape every 15 s; RSS and heap every 10 s. */
async function soak() {
  const pvs = Number(env.BENCH_PVS ?? 50_000);
  const backlog = Number(env.BENCH_BACKLOG ?? 5_000);
  const server = await startServer({
    BENCH_VGS: String(VG_COUNTS[0]),
    BENCH_PVS: String(pvs),
    BENCH_BACKLOG: String(backlog),
    BENCH_LEASE_RATE: env.BENCH_LEASE_RATE ?? String(NODES / 10),
  });
  const start = await server.stats();
  console.log(
    `\nsoak: ${NODES} nodes × ${VG_COUNTS[0]} VGs, ${pvs} PVs, ${backlog} pending pods (${backlog * 4} PVCs) in the cache, ${NODES / 10} lease renewals/s, filter→prioritize pairs for ${SOAK} s; RSS after filling the cache ${start.rssMiB.toFixed(0)} MiB`,
  );
  console.log("   t s   RSS MiB   heap MiB    req/s   p99 ms   CPU ms/req   GC ms/req   GC max ms   loop max ms");
  const scraper = setInterval(() => void fetch(`${server.url}/metrics`).then((r) => r.text()), 15_000);
  const samples = [];
  const t0 = performance.now();
  let previous = start;
  while (performance.now() - t0 < SOAK * 1000) {
    const r = await load(server.url, "", pairs, 10);
    const s = await server.stats();
    const requests = Math.max(1, r.requests.total);
    const cpuMsPerReq = cpuMs(previous, s) / requests;
    const gcMsPerReq = s.gc.totalMs / requests;
    previous = s;
    const t = (s.at - start.at) / 1000;
    samples.push({
      t,
      rssMiB: s.rssMiB,
      heapUsedMiB: s.heapUsedMiB,
      rps: r.requests.average,
      p99: r.latency.p99,
      cpuMsPerReq,
      gcMsPerReq,
      gcMaxMs: s.gc.maxMs,
      loopMaxMs: s.loopMaxMs,
    });
    console.log(
      `${fmt(t).padStart(6)} ${fmt(s.rssMiB).padStart(9)} ${fmt(s.heapUsedMiB).padStart(10)} ${fmt(r.requests.average).padStart(8)} ${fmt(r.latency.p99).padStart(8)} ${fmt(cpuMsPerReq, 2).padStart(12)} ${fmt(gcMsPerReq, 2).padStart(11)} ${fmt(s.gc.maxMs, 1).padStart(11)} ${fmt(s.loopMaxMs).padStart(13)}`,
    );
  }
  clearInterval(scraper);
  server.child.kill("SIGTERM");
  const after2min = samples.filter((s) => s.t >= 120);
  if (after2min.length > 1) {
    const rss = after2min.map((s) => s.rssMiB);
    console.log(
      `from minute 2 to the end: RSS ${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)} MiB, first ${rss[0].toFixed(0)}, last ${rss.at(-1).toFixed(0)}`,
    );
  }
  save("soak", { vgs: VG_COUNTS[0], pvs, backlog, seconds: SOAK, samples });
}

if (SOAK > 0) {
  await soak();
} else {
  const configs = [];
  for (const vgs of VG_COUNTS) {
    const server = await startServer({ BENCH_VGS: String(vgs) });
    const rows = await scenarios(server);
    const scrape = await scrapes(server);
    const full = env.BENCH_FULL_NODES === "0" || vgs !== VG_COUNTS[0] ? undefined : await fullNodes(server);
    server.child.kill("SIGTERM");
    printConfig(vgs, rows, scrape, full);
    configs.push({ vgs, scenarios: rows, scrape, fullNodes: full });
  }
  console.log(
    `\nload average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), Node ${process.version}`,
  );
  save("bench", {
    durationSeconds: DURATION,
    connections: CONNECTIONS,
    ...(RATE ? { requestsPerSecond: RATE } : {}),
    configs,
  });
  if (configs.some((c) => c.scenarios.some((r) => r.errors > 0))) {
    console.error("some requests failed: these figures measure errors, not answers");
    process.exitCode = 1;
  }
}
