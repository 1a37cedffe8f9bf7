/**
 * nls's and alibaba/open-local's scheduler extenders side by side, over loopback, on one control plane
 * built by the e2e harness, in the same run: the same Node and NodeLocalStorage objects (2 VGs per node,
 * fresh agent Leases), the same pending claims (pods of 4 PVCs, the first of a class naming its VG), the
 * same request bodies (names only, as nodeCacheCapable kube-scheduler sends), one kept-alive connection
 * each, requests one after another. Prints a table; asserts nothing.
 *
 *   pnpm bench:head-to-head [--nodes=1000,5000] [--seconds=15] [--pods=200] [--settle-seconds=5]
 *
 * Before each figure the bench waits --settle-seconds: the extender measured before it (open-local,
 * after its heavy figures) goes on collecting garbage for a while, on the same two cores.
 *
 * Node counts are reached in turn (nodes are added, never removed). open-local's binary: NLS_OPEN_LOCAL_SRC
 * or NLS_OPEN_LOCAL_BIN (open-local/binary.ts); without either the bench is skipped. With
 * NLS_BENCH_DIR=<dir> it writes the figures (or {"skipped": why}) as JSON to <dir>/head-to-head.json.
 */
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { e2eGate, freePort } from "../../e2e/cluster.js";
import { startExtender } from "../../e2e/daemons.js";
import { inParallel } from "../../e2e/in-parallel.js";
import { localPvc, localStorageClass } from "../../e2e/local-volumes.js";
import { addBenchNode, nlsExtenderSees, startBenchCluster } from "../bench-cluster.js";
import { openLocalBinary } from "../open-local/binary.js";
import { openLocalSees, startOpenLocalExtender } from "../open-local/extender.js";
import { sampleRssMiB } from "../process-cpu.js";
import { summarize, type LatencySummary } from "./latency.js";
import { requests, sendFor, type Exchange, type Send } from "./one-connection.js";
import { answeredNodes } from "./answers.js";

const GI = 2 ** 30;
const NAMESPACE = "bench";

function option(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
const nodeCounts = option("nodes", "1000,5000").split(",").map(Number);
const seconds = Number(option("seconds", "15"));
const podCount = Number(option("pods", "200"));
const settleMs = 1000 * Number(option("settle-seconds", "5"));

/** The VGs of the i-th node: sizes vary from node to node, so that scores differ. */
const vgsOf = (i: number) => [
  { name: "pool-0", bytes: (200 + (i % 7) * 50) * GI },
  { name: "pool-1", bytes: (100 + ((i + 1) % 5) * 20) * GI },
];
const nodeName = (i: number) => `node-${String(i).padStart(5, "0")}`;
const claimsOf = (p: number) => [0, 1, 2, 3].map((k) => `pod-${p}-data-${k}`);
const pod = (p: number, withClaims: boolean) => ({
  metadata: { name: `pod-${p}`, namespace: NAMESPACE, uid: `uid-${p}` },
  spec: {
    containers: [{ name: "app", image: "busybox" }],
    volumes: withClaims
      ? claimsOf(p).map((claimName, k) => ({ name: `d${k}`, persistentVolumeClaim: { claimName } }))
      : [{ name: "tmp", emptyDir: {} }],
  },
});

interface Scenario {
  title: string;
  /** The path whose answer `nodesAnswered` counts (the first request of each exchange). */
  path: string;
  exchanges: (names: string[]) => Exchange[];
}

const FILTER = "/scheduler/predicates";
const PRIORITIZE = "/scheduler/priorities";
const withClaims = (names: string[]) =>
  Array.from({ length: podCount }, (_, p) => JSON.stringify({ Pod: pod(p, true), Nodes: null, NodeNames: names }));
/**
 * What kube-scheduler asks per pod: filter on every node, then prioritize on the nodes filter let through.
 * The filter bodies are encoded before the clock starts, as for the other scenarios.
 */
const filterThenPrioritize = (names: string[]): Exchange[] =>
  withClaims(names).map((filterBody, p) => async (send: Send) => {
    const passed = JSON.parse(await send(FILTER, filterBody));
    const through: unknown = (passed as { NodeNames?: unknown } | null)?.NodeNames;
    // kube-scheduler calls prioritize only when more than one node is left.
    if (Array.isArray(through) && through.length > 1)
      await send(PRIORITIZE, JSON.stringify({ Pod: pod(p, true), Nodes: null, NodeNames: through }));
  });
const scenarios: Scenario[] = [
  { title: "filter, 4 PVCs", path: FILTER, exchanges: (names) => requests(FILTER, withClaims(names)) },
  {
    title: "prioritize, 4 PVCs (all nodes)",
    path: PRIORITIZE,
    exchanges: (names) => requests(PRIORITIZE, withClaims(names)),
  },
  { title: "a pod of 4 PVCs: filter, then prioritize what passed", path: FILTER, exchanges: filterThenPrioritize },
  {
    title: "filter, no local PVCs (pass-through)",
    path: FILTER,
    exchanges: (names) => requests(FILTER, [JSON.stringify({ Pod: pod(0, false), Nodes: null, NodeNames: names })]),
  },
];

interface Side extends LatencySummary {
  /** Nodes the first answer let through (filter) or scored (prioritize). */
  nodesAnswered: number;
  failures: Record<number, number>;
}

interface Row {
  nodes: number;
  title: string;
  nls: Side;
  openLocal: Side;
}

function writeFigures(figures: object): void {
  if (process.env.NLS_BENCH_DIR)
    writeFileSync(join(process.env.NLS_BENCH_DIR, "head-to-head.json"), `${JSON.stringify(figures, null, 2)}\n`);
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));

async function main(): Promise<void> {
  const gate = await e2eGate();
  const binary = gate.run ? await openLocalBinary() : { skipped: gate.why ?? "no control plane" };
  if ("skipped" in binary) {
    console.log(`# head-to-head bench skipped: ${binary.skipped}`);
    writeFigures({ skipped: binary.skipped });
    return;
  }
  const { cluster, api } = await startBenchCluster();
  const stops: Array<() => Promise<unknown>> = [() => cluster.stop()];
  try {
    await api.post("/apis/storage.k8s.io/v1/storageclasses", localStorageClass("lvm"));
    const pool0 = localStorageClass("lvm-pool0");
    await api.post("/apis/storage.k8s.io/v1/storageclasses", {
      ...pool0,
      parameters: { ...pool0.parameters, vgName: "pool-0" },
    });
    await api.post("/api/v1/namespaces", { metadata: { name: NAMESPACE } });
    // Pending claims of a WaitForFirstConsumer class: what a pod being scheduled has.
    await inParallel(
      Array.from({ length: podCount }, (_, p) => p),
      32,
      async (p) => {
        for (const [k, claim] of claimsOf(p).entries())
          await api.post(
            `/api/v1/namespaces/${NAMESPACE}/persistentvolumeclaims`,
            localPvc(NAMESPACE, claim, `${10 + 5 * k}Gi`, k === 0 ? "lvm-pool0" : "lvm"),
          );
      },
    );
    // Its log lines (one per request) to its file only: kept in this process, the client, they would grow it.
    const nls = await startExtender(cluster, await freePort(), { log: "file only" });
    stops.unshift(() => nls.stop());
    const rows: Row[] = [];
    let made = 0;
    let openLocal: Awaited<ReturnType<typeof startOpenLocalExtender>> | undefined;
    const rss: Array<{ nodes: number; rssMiB: Record<string, number> }> = [];
    const figures = () => ({
      openLocal: { version: binary.version },
      seconds,
      settleSeconds: settleMs / 1000,
      pods: podCount,
      rows,
      rss,
    });
    for (const count of nodeCounts) {
      console.log(`# ${count} nodes: creating ${count - made} more`);
      const added = Array.from({ length: Math.max(0, count - made) }, (_, k) => made + k);
      await inParallel(added, 32, (i) => addBenchNode(api, nodeName(i), vgsOf(i)));
      made = Math.max(made, count);
      const names = Array.from({ length: count }, (_, i) => nodeName(i));
      await nlsExtenderSees(nls.debugPort, names);
      if (!openLocal) {
        console.log(`# starting open-local's extender ${binary.version}`);
        openLocal = await startOpenLocalExtender(cluster, binary, await freePort(), names);
        const started = openLocal;
        stops.unshift(() => started.stop());
      } else await openLocalSees(openLocal.port, names);
      for (const scenario of scenarios) {
        const exchanges = scenario.exchanges(names);
        const side = async (port: number): Promise<Side> => {
          await sleep(settleMs);
          const sent = await sendFor(`http://127.0.0.1:${port}`, exchanges, { seconds });
          return {
            ...summarize(sent.latenciesMs, sent.wallSeconds),
            nodesAnswered: answeredNodes(scenario.path, sent.firstAnswer),
            failures: sent.failures,
          };
        };
        console.log(`# ${count} nodes, ${scenario.title}: nls, then open-local, ${seconds} s each`);
        const row = {
          nodes: count,
          title: scenario.title,
          nls: await side(nls.port),
          openLocal: await side(openLocal.port),
        };
        rows.push(row);
        writeFigures(figures());
      }
      rss.push({
        nodes: count,
        rssMiB: sampleRssMiB({ "nls-extender": nls.child.pid, "open-local extender": openLocal.child.pid }),
      });
    }
    writeFigures(figures());
    console.log(
      `\nOver loopback, one connection, ${seconds} s per figure, 2 VGs per node, pods of 4 PVCs; open-local ${binary.version}; Node ${process.version}, ${new Date().toISOString()}`,
    );
    console.log(
      "| nodes | request | nls p50 / p99 ms | nls req/s | open-local p50 / p99 ms | open-local req/s | nodes answered (nls / open-local) |",
    );
    console.log("|---|---|---|---|---|---|---|");
    for (const r of rows) {
      const cell = (s: Side) => `${ms(s.p50Ms)} / ${ms(s.p99Ms)}`;
      const failed = (s: Side) => Object.keys(s.failures).length > 0;
      const note =
        failed(r.nls) || failed(r.openLocal)
          ? ` (failures: ${JSON.stringify([r.nls.failures, r.openLocal.failures])})`
          : "";
      console.log(
        `| ${r.nodes} | ${r.title} | ${cell(r.nls)} | ${r.nls.perSecond.toFixed(0)} | ${cell(r.openLocal)} | ${r.openLocal.perSecond.toFixed(1)} | ${r.nls.nodesAnswered} / ${r.openLocal.nodesAnswered}${note} |`,
      );
    }
    for (const { nodes, rssMiB } of rss)
      console.log(
        `- resident memory at ${nodes} nodes (MiB): ${Object.entries(rssMiB)
          .map(([k, v]) => `${k} ${v.toFixed(0)}`)
          .join(", ")}`,
      );
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

await main();
