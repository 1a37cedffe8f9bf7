// `pnpm bench:idle` (agent): the built nls-agent as a process against a fake API server
// (testing/fake-api-server.ts), reconciling this host every BENCH_INTERVAL (default 1s): lsblk, lvm,
// mountinfo, as in production, but considering no device and with an LVM that sees none unless
// BENCH_DEVICES gives --devices (read-only either way; the init config asks for nothing). After a
// warm-up of BENCH_WARMUP scans it samples the agent's RSS (VmRSS of /proc/<pid>/status, with its anonymous
// and file-backed parts) once per scan over BENCH_SCANS scans and counts the API writes meanwhile. Prints
// one table and writes the figures as JSON under bench/results/. BENCH_AGENT_CLI measures another build
// (e.g. main's packages/agent/dist/cli.js, for a before/after). The agent runs with the Node flags of
// the image's entry point (the Dockerfile's nls-agent, which deploy/'s DaemonSet runs); BENCH_NODE_ARGS
// replaces them ("" for none).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { repositoryImageNodeFlags, startBuilt } from "@nls/testkit";
import { FakeApiServer } from "../testing/fake-api-server.js";

const CLI = process.env.BENCH_AGENT_CLI ?? fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const INTERVAL = process.env.BENCH_INTERVAL ?? "1s";
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const SCANS = Number(process.env.BENCH_SCANS ?? 20);
const NODE_ARGS =
  process.env.BENCH_NODE_ARGS === undefined
    ? repositoryImageNodeFlags("agent")
    : process.env.BENCH_NODE_ARGS.split(" ").filter(Boolean);
const NODE = "nls-bench-node";

const api = await FakeApiServer.start();
api.seed(`/api/v1/nodes/${NODE}`, {
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: NODE, labels: { "kubernetes.io/hostname": NODE } },
});
api.seed("/apis/csi.aliyun.com/v1alpha1/nodelocalstorageinitconfigs/open-local", {
  apiVersion: "csi.aliyun.com/v1alpha1",
  kind: "NodeLocalStorageInitConfig",
  metadata: { name: "open-local" },
  spec: { globalConfig: { listConfig: { vgs: { include: ["nlsbench-.*"] } } } },
});
const dir = mkdtempSync(join(os.tmpdir(), "nls-bench-idle-"));
const kubeconfig = join(dir, "kubeconfig");
writeFileSync(kubeconfig, api.kubeconfig());
// Unless BENCH_DEVICES names devices, the agent considers none and its LVM sees none: other work on this
// machine (loop devices, VGs of test suites) must not change the node's status while it is measured.
const DEVICES = process.env.BENCH_DEVICES;
const isolation: { args: string[]; env: Record<string, string> } = { args: [], env: {} };
if (!DEVICES) {
  mkdirSync(join(dir, "lvm"));
  writeFileSync(join(dir, "lvm", "lvm.conf"), 'devices { global_filter = [ "r|.*|" ] }\n');
  isolation.args = ["--devices", "/dev/nls-bench-none", "--mount-root", join(dir, "mnt")];
  isolation.env = { LVM_SYSTEM_DIR: join(dir, "lvm") };
} else isolation.args = ["--devices", DEVICES];

/** kB fields of /proc/<pid>/status, in MiB. */
function memory(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
}

const agent = await startBuilt(
  CLI,
  ["--kubeconfig", kubeconfig, "--interval", INTERVAL, "--metrics-addr", "127.0.0.1:0", ...isolation.args],
  {
    ...isolation.env,
    NODE_NAME: NODE,
    POD_NAMESPACE: "kube-system",
  },
  "nls-agent started",
  NODE_ARGS,
);
const pid = agent.child.pid!;
const scanMetrics = async () => {
  const text = await (await fetch(`http://127.0.0.1:${agent.port}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^nls_agent_scan_duration_seconds_${name} (\\S+)`, "m").exec(text)?.[1] ?? 0);
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? NaN) / 2 ** 20;
  return {
    count: value("count"),
    seconds: value("sum"),
    heapMiB: {
      used: gauge("nodejs_heap_size_used_bytes"),
      total: gauge("nodejs_heap_size_total_bytes"),
      external: gauge("nodejs_external_memory_bytes"),
    },
  };
};
const scans = async () => (await scanMetrics()).count;
const waitForScans = async (n: number) => {
  while ((await scans()) < n) {
    if (agent.child.exitCode !== null) throw new Error(`the agent exited: ${agent.stdout()}${agent.stderr()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

try {
  const started = memory(pid);
  await waitForScans(WARMUP);
  const nlsPath = `/apis/csi.aliyun.com/v1alpha1/nodelocalstorages/${NODE}`;
  const state = (
    api.objects.get(nlsPath)?.status as
      { nodeStorageInfo?: { state?: { status?: string; reason?: string } } } | undefined
  )?.nodeStorageInfo?.state;
  const phase = state && { status: state.status, reason: state.reason };
  const writesBefore = api.writes().length;
  const scansBefore = await scanMetrics();
  const samples: ReturnType<typeof memory>[] = [];
  for (let s = 1; s <= SCANS; s++) {
    await waitForScans(WARMUP + s);
    samples.push(memory(pid));
  }
  const steadyWrites = api.writes().slice(writesBefore);
  const scansAfter = await scanMetrics();
  const meanScanMs = ((scansAfter.seconds - scansBefore.seconds) / (scansAfter.count - scansBefore.count)) * 1000;
  const byKind = (re: RegExp) => steadyWrites.filter((w) => re.test(w.url)).length;
  const last = samples.at(-1)!;
  const max = Math.max(...samples.map((m) => m.rss));
  const figures = {
    agent: CLI,
    nodeArgs: NODE_ARGS,
    interval: INTERVAL,
    devices: DEVICES ?? null,
    warmupScans: WARMUP,
    scans: SCANS,
    meanScanMs,
    v8HeapMiBLast: scansAfter.heapMiB,
    rssMiB: { afterStart: started.rss, last: last.rss, max, anonLast: last.anon, fileLast: last.file },
    apiWritesDuringScans: {
      nlsStatus: byKind(/nodelocalstorages\/[^/]+\/status$/),
      leaseRenewals: byKind(/\/leases\//),
      events: byKind(/\/events$/),
      other: steadyWrites.length - byKind(/nodelocalstorages\/[^/]+\/status$|\/leases\/|\/events$/),
    },
    statusState: phase,
  };
  console.log(
    `nls-agent idle: ${CLI}${NODE_ARGS.length ? ` (node ${NODE_ARGS.join(" ")})` : ""}, --interval ${INTERVAL}, ` +
      (DEVICES ? `--devices ${DEVICES}` : "no devices, LVM filtered to none"),
  );
  console.log(
    `| RSS after start | RSS after ${WARMUP}+${SCANS} scans (anon + file) | max while sampling | NLS status writes | Lease renewals | Events | mean scan |`,
  );
  console.log("|---|---|---|---|---|---|---|");
  console.log(
    `| ${started.rss.toFixed(0)} MiB | ${last.rss.toFixed(0)} MiB (${last.anon.toFixed(0)} + ${last.file.toFixed(0)}) | ${max.toFixed(0)} MiB | ${figures.apiWritesDuringScans.nlsStatus} | ${figures.apiWritesDuringScans.leaseRenewals} | ${figures.apiWritesDuringScans.events} | ${meanScanMs.toFixed(0)} ms |`,
  );
  const heap = scansAfter.heapMiB;
  console.log(
    `V8 heap at the end: ${heap.used.toFixed(0)} MiB used of ${heap.total.toFixed(0)} MiB, external ${heap.external.toFixed(0)} MiB`,
  );
  console.log(
    `the node's status: ${JSON.stringify(phase)}; Node ${process.version}, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
  const out = new URL("./results/", import.meta.url);
  mkdirSync(out, { recursive: true });
  const file = new URL(`idle-rss-${new Date().toISOString().replace(/[:.]/g, "-")}.json`, out);
  const json = `${JSON.stringify({ machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, date: new Date().toISOString(), loadavg: os.loadavg() }, idleRssMiB: last.rss, ...figures }, null, 2)}\n`;
  writeFileSync(file, json);
  // The root `pnpm bench` collects every part's figures from NLS_BENCH_DIR.
  if (process.env.NLS_BENCH_DIR) writeFileSync(join(process.env.NLS_BENCH_DIR, "idle-rss.json"), json);
  console.log(`figures written to ${fileURLToPath(file)}`);
} finally {
  agent.child.kill("SIGTERM");
  await agent.exited;
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
}
