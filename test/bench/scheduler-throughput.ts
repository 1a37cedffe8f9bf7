/**
 * The figure users feel: pods per second the real kube-scheduler binds, without the extender and with
 * it, for pods without volumes and pods with local PVCs, on one control plane built by the e2e harness
 * (no kubelets: a pod only needs binding; PVC pods also need their PV, made by the stand-in for
 * open-local's CSI controller). Prints a table; asserts nothing.
 *
 *   pnpm bench:scheduler [--nodes=1000] [--pods=2000] [--pvc-pods=500] [--sampling=100|adaptive]
 *                        [--rounds=1] [--settle-seconds=5] [--reset=none|etcd]
 *                        [--only=<part of a scenario's name>] [--open-local-pods=<pods>]
 *
 * Rate = pods bound after the first one / seconds from the first binding to the last, as the pods'
 * watch reports them: the scheduler's start and its cache sync are not counted. Each share is taken
 * against the no-extender scenario with the same claims per pod, in the same run.
 *
 * "null extender, every pod, no volumes" calls null-extender.ts (a process of its own) with the same
 * configuration as "extender, no volumes": it lets every node through and scores none, so its share is
 * the ceiling any extender called for every pod can reach on this harness.
 *
 * The "open-local" scenarios run alibaba/open-local's scheduler extender (open-local/binary.ts says
 * where it comes from: NLS_OPEN_LOCAL_SRC or NLS_OPEN_LOCAL_BIN; without either they are skipped and the
 * figures say why) configured as nls is for every pod, on the same cluster in the same run; the
 * stand-in provisioner then asks open-local's extender, as open-local's CSI driver would. It runs only
 * for those scenarios (started before the first, with its cache full, and stopped after the last, so
 * its informers' work on every pod event is not charged to the others). Its no-volume
 * scenario binds --open-local-pods pods (default: --pods), its PVC scenarios --pvc-pods.
 *
 * CPU: every process sharing the cores (etcd, kube-apiserver, the scenario's kube-scheduler,
 * kube-controller-manager, nls-extender, the null extender, and this process, which also runs the
 * stand-in provisioner) has its utime+stime read from /proc at the first and at the last binding the
 * watch sees — the rate's span — and divided by the pods bound after the first; "others" is the rest of
 * the machine's busy CPU over the same span (other users' work). A process's background work (its
 * per-second cost) counts per pod too, so a slower scenario shows a little more of it per pod. Each
 * process's resident memory at the last binding is printed too (what grows from scenario to scenario).
 *
 * With --rounds=N the scenarios run N times, every other round in reverse order, so that no scenario is
 * always the one that runs after the cluster has digested thousands of force-deleted pods; a scenario's
 * figure is the median of its rounds, each round's rate is reported beside it, and each run's CPU per
 * pod and etcd's revision and database size at its start are printed in the order run. Before each
 * scenario, --reset=etcd compacts etcd to its newest revision and defragments it (kube-apiserver
 * compacts only every 5 minutes), then the bench waits --settle-seconds.
 * With NLS_BENCH_DIR=<dir> it also writes the figures (or {"skipped": why}) as JSON to <dir>/scheduler.json.
 */
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { ADMIN_TOKEN, e2eGate, freePort, waitFor, type Cluster } from "../e2e/cluster.js";
import { schedulerConfigFor, spawnDaemon, startExtender, type DaemonProcess } from "../e2e/daemons.js";
import { inParallel } from "../e2e/in-parallel.js";
import { kubeApi, type KubeApi } from "../e2e/kube-api.js";
import { localPod, localPvc, localStorageClass } from "../e2e/local-volumes.js";
import { NodeLvm } from "../e2e/node-lvm.js";
import { doRequest, OpenLocalCsiStandIn } from "../e2e/open-local-csi.js";
import { addBenchNode, nlsExtenderSees, startBenchCluster } from "./bench-cluster.js";
import { summarizeAttempts, type ProvisioningSummary } from "./provisioning-attempts.js";
import { compactAndDefragment, etcdStatus, type EtcdStatus } from "./etcd-maintenance.js";
import { openLocalBinary } from "./open-local/binary.js";
import { startOpenLocalExtender, type OpenLocalExtender } from "./open-local/extender.js";
import { watchBindings } from "./pod-bindings.js";
import { cpuMsPerPod, sampleCpu, sampleRssMiB, type CpuSample } from "./process-cpu.js";
import { cpuTable, median, medianPerKey } from "./scheduler-figures.js";

const MANAGED_RESOURCE = "nls.csi.aliyun.com/local-storage";
/** Claims the stand-in provisioner provisions at once: external-provisioner's `--worker-threads` default. */
const PROVISIONER_WORKERS = 100;
const VG = "pool-0";
const VG_BYTES = 4096 * 2 ** 30;

function option(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}
const nodeCount = Number(option("nodes", "1000"));
const podCount = Number(option("pods", "2000"));
const pvcPodCount = Number(option("pvc-pods", "500"));
const openLocalPodCount = Number(option("open-local-pods", String(podCount)));
const sampling = option("sampling", "100");
const only = option("only", "");
const rounds = Math.max(1, Number(option("rounds", "1")));
const settleMs = 1000 * Number(option("settle-seconds", "5"));
/** Between scenarios: `etcd` compacts and defragments etcd; `none` leaves it to kube-apiserver (every 5 min). */
const reset = option("reset", "etcd");
if (reset !== "etcd" && reset !== "none") throw new Error(`--reset=${reset}: etcd or none`);

interface Scenario {
  name: string;
  /** Which scheduler configuration: none, the extender for every pod, or only for pods marked. */
  extender: "none" | "every pod" | "managed resources" | "null extender" | "open-local";
  pods: number;
  claimsPerPod: number;
}

const scenarios: Scenario[] = [
  { name: "no extender, no volumes", extender: "none", pods: podCount, claimsPerPod: 0 },
  { name: "extender, no volumes", extender: "every pod", pods: podCount, claimsPerPod: 0 },
  // The ceiling of any extender called for every pod: null-extender.ts, configured as nls is above.
  { name: "null extender, every pod, no volumes", extender: "null extender", pods: podCount, claimsPerPod: 0 },
  { name: "extender + managedResources, no volumes", extender: "managed resources", pods: podCount, claimsPerPod: 0 },
  // The baselines of the PVC scenarios: PreBind waits for the stand-in provisioner with or without nls.
  { name: "no extender, 1 PVC", extender: "none", pods: pvcPodCount, claimsPerPod: 1 },
  { name: "no extender, 4 PVCs", extender: "none", pods: pvcPodCount, claimsPerPod: 4 },
  { name: "extender, 1 PVC", extender: "every pod", pods: pvcPodCount, claimsPerPod: 1 },
  { name: "extender, 4 PVCs", extender: "every pod", pods: pvcPodCount, claimsPerPod: 4 },
  { name: "extender + managedResources, 1 PVC", extender: "managed resources", pods: pvcPodCount, claimsPerPod: 1 },
  // alibaba/open-local's extender, called as nls is in the "extender" scenarios (when there is one).
  { name: "open-local, no volumes", extender: "open-local", pods: openLocalPodCount, claimsPerPod: 0 },
  { name: "open-local, 1 PVC", extender: "open-local", pods: pvcPodCount, claimsPerPod: 1 },
  { name: "open-local, 4 PVCs", extender: "open-local", pods: pvcPodCount, claimsPerPod: 4 },
];

async function schedulerConfig(scenario: Scenario, extenderUrl: string): Promise<string> {
  const file =
    scenario.extender === "managed resources" ? "kube-scheduler-config.yaml" : "kube-scheduler-config-every-pod.yaml";
  const config = parse(await schedulerConfigFor(extenderUrl, file));
  // kube-scheduler's client defaults (50 QPS, burst 100) would cap every scenario at ~50 bindings/s.
  config.clientConnection.qps = 5000;
  config.clientConnection.burst = 5000;
  if (sampling !== "adaptive") config.percentageOfNodesToScore = Number(sampling);
  // No extender: kube-scheduler's own defaults (also without the every-pod file's profile, which only
  // tells NodeResourcesFit to ignore the marking these pods do not carry).
  if (scenario.extender === "none") {
    delete config.extenders;
    delete config.profiles;
  }
  return stringify(config);
}

interface Result {
  scenario: Scenario;
  bound: number;
  podsPerSecond: number;
  /** Each process's CPU from the first binding to the last, per pod bound after the first (as the rate). */
  cpuMsPerPod: Record<string, number>;
  /** etcd as the scenario started (after the reset, if any). */
  etcd: EtcdStatus;
  /** Each process's resident memory at the last binding: what grows from one scenario to the next. */
  rssMiB: Record<string, number>;
  /** The stand-in provisioner's attempts while the scenario ran (PVC scenarios). */
  provisioning?: ProvisioningSummary;
}

/** The extenders the scenarios call, as processes whose CPU is sampled. */
interface Extenders {
  nls: DaemonProcess & { port: number };
  null: DaemonProcess & { port: number };
  openLocal?: OpenLocalExtender;
}

/** The extender a scenario's kube-scheduler calls (and the stand-in provisioner asks). */
function extenderPortOf(extenders: Extenders, scenario: Scenario): number {
  if (scenario.extender === "null extender") return extenders.null.port;
  if (scenario.extender !== "open-local") return extenders.nls.port;
  if (!extenders.openLocal) throw new Error(`${scenario.name}: no open-local extender running`);
  return extenders.openLocal.port;
}

async function runScenario(
  cluster: Cluster,
  api: KubeApi,
  extenders: Extenders,
  scenario: Scenario,
  namespace: string,
): Promise<Result> {
  await api.post("/api/v1/namespaces", { metadata: { name: namespace } });
  // No service-account controller runs: create the account the ServiceAccount admission plugin wants.
  await api.post(`/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name: "default" } });
  const pods = Array.from({ length: scenario.pods }, (_, i) => `p-${i}`);
  // Every pod exists before the scheduler starts: the rate is the scheduler's, not the client's.
  await inParallel(pods, 32, async (pod) => {
    const claims = Array.from({ length: scenario.claimsPerPod }, (_, c) => `${pod}-c${c}`);
    for (const claim of claims) {
      await api.post(
        `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
        localPvc(namespace, claim, "1Gi", "nls-lvm"),
      );
    }
    const manifest = localPod(namespace, pod, claims) as {
      spec: { automountServiceAccountToken?: boolean; containers: Array<{ resources?: object }> };
    };
    manifest.spec.automountServiceAccountToken = false;
    // What deploy/'s admission webhook writes on a pod with a local PVC (not run here: see below).
    if (scenario.extender === "managed resources" && claims.length > 0) {
      manifest.spec.containers[0]!.resources = {
        requests: { [MANAGED_RESOURCE]: "1" },
        limits: { [MANAGED_RESOURCE]: "1" },
      };
    }
    await api.post(`/api/v1/namespaces/${namespace}/pods`, manifest);
  });
  const etcd = await etcdStatus(cluster.etcdUrl);
  // Known once kube-scheduler is started, before its first binding.
  const started: { schedulerPid?: number } = {};
  // Every process sharing the cores, whether the scenario calls it or not (an idle one costs ~0).
  const pids = () => ({
    etcd: cluster.pidOf("etcd"),
    "kube-apiserver": cluster.pidOf("kube-apiserver"),
    "kube-scheduler": started.schedulerPid,
    "kube-controller-manager": cluster.pidOf("kube-controller-manager"),
    "nls-extender": extenders.nls.child.pid,
    "null extender": extenders.null.child.pid,
    ...(extenders.openLocal ? { "open-local extender": extenders.openLocal.child.pid } : {}),
    "bench (+ stand-in provisioner)": process.pid,
  });
  let first: CpuSample | undefined;
  let last: CpuSample | undefined;
  let rssMiB: Record<string, number> = {};
  const bindings = watchBindings(kubeApi(cluster.server, ADMIN_TOKEN), namespace, scenario.pods, (count) => {
    if (count === 1) first = sampleCpu(pids());
    if (count === scenario.pods) {
      last = sampleCpu(pids());
      rssMiB = sampleRssMiB(pids());
    }
  });
  const extenderUrl = `http://127.0.0.1:${extenderPortOf(extenders, scenario)}`;
  // open-local maps a claim to its pod only on the pod's events and forces one on each pending pod every
  // 5 minutes, so its PVC scenarios may need two of those cycles; every other scenario gets 5 minutes.
  const timeoutMs = scenario.extender === "open-local" && scenario.claimsPerPod > 0 ? 15 * 60_000 : 5 * 60_000;
  const scheduler = await cluster.startScheduler(await schedulerConfig(scenario, extenderUrl));
  started.schedulerPid = scheduler.pid;
  try {
    let timer: NodeJS.Timeout | undefined;
    const times = await Promise.race([
      bindings.times,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            void whyPending(api, namespace).then((why) =>
              reject(
                new Error(
                  `${scenario.name}: ${bindings.count()} of ${scenario.pods} pods bound in ${timeoutMs / 60_000} minutes; ${why}`,
                ),
              ),
            ),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const span = (times[times.length - 1]! - times[0]!) / 1000;
    return {
      scenario,
      bound: times.length,
      podsPerSecond: span > 0 ? (times.length - 1) / span : Number.NaN,
      cpuMsPerPod: first && last && times.length > 1 ? cpuMsPerPod(first, last, times.length - 1) : {},
      etcd,
      rssMiB,
    };
  } finally {
    bindings.stop();
    await scheduler.stop();
    await removeScenario(api, namespace);
  }
}

/** What kube-scheduler last said about one pod still pending: a stalled scenario's first clue. */
async function whyPending(api: KubeApi, namespace: string): Promise<string> {
  try {
    const pods = await api.get<{
      items: Array<{ metadata: { name: string }; spec: { nodeName?: string }; status?: { conditions?: object[] } }>;
    }>(`/api/v1/namespaces/${namespace}/pods?fieldSelector=spec.nodeName%3D&limit=1`);
    const pod = pods.items[0];
    return pod ? `${pod.metadata.name}: ${JSON.stringify(pod.status?.conditions ?? [])}` : "no pod pending";
  } catch (err) {
    return `the pending pods could not be read: ${(err as Error).message}`;
  }
}

/**
 * Removes what a scenario made, so that every scenario starts from the same cluster: its pods
 * force-deleted (no kubelet runs to finish a graceful deletion), its Events, and its claims and their
 * PVs with their protection finalizers lifted (no controller here removes them). Left behind, each
 * slows every later scenario, charged to whichever runs last: 4,000 bound pods took a 1,000-node
 * scenario from 202 to 141 pods/s, and ~2,000 PVs of the class took "no extender, 1 PVC" from 24 to
 * 5 pods/s (kube-scheduler's volume binding looks at every PV of the class for each claim and node).
 */
async function removeScenario(api: KubeApi, namespace: string): Promise<void> {
  // Thousands of pods outlast the client's 30 s request timeout; the API server goes on deleting, and
  // asking again deletes what is left (the wait below checks that none is).
  for (let attempt = 1; ; attempt++) {
    try {
      await api.delete(`/api/v1/namespaces/${namespace}/pods`, { gracePeriodSeconds: 0 });
      break;
    } catch (err) {
      if (attempt === 5 || !/timed out/.test((err as Error).message)) throw err;
    }
  }
  await api.delete(`/api/v1/namespaces/${namespace}/events`);
  const claims = await api.get<{ items: Array<{ metadata: { name: string }; spec: { volumeName?: string } }> }>(
    `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
  );
  await inParallel(claims.items, 32, async (claim) => {
    const path = `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claim.metadata.name}`;
    await api.patch(path, { metadata: { finalizers: null } });
    await api.delete(path);
    if (!claim.spec.volumeName) return;
    await api.patch(`/api/v1/persistentvolumes/${claim.spec.volumeName}`, { metadata: { finalizers: null } });
    await api.delete(`/api/v1/persistentvolumes/${claim.spec.volumeName}`);
  });
  const empty = async (path: string) =>
    (await api.get<{ items: unknown[] }>(`${path}?limit=1`)).items.length === 0 ? true : undefined;
  await waitFor(`the pods of ${namespace} gone`, () => empty(`/api/v1/namespaces/${namespace}/pods`), 120_000);
  await waitFor(
    `the claims of ${namespace} gone`,
    () => empty(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`),
    120_000,
  );
}

interface ScenarioFigures extends Scenario {
  bound: number;
  /** The median of the rounds' rates. */
  podsPerSecond: number;
  rounds: number[];
  /** Each process's CPU ms per pod: the median of the rounds'. */
  cpuMsPerPod: Record<string, number>;
  /** Each round's CPU ms per pod and etcd's state at its start, in the order run. */
  roundDetails: Array<Pick<Result, "podsPerSecond" | "cpuMsPerPod" | "etcd" | "rssMiB" | "provisioning">>;
}

/** open-local's build in the figures: its version, or why its scenarios were skipped. */
type OpenLocalFigure = { version: string } | { skipped: string };

function figuresOf(sittings: Map<Scenario, Result[]>, openLocal: OpenLocalFigure) {
  const results: ScenarioFigures[] = [...sittings]
    .filter(([, done]) => done.length > 0)
    .map(([scenario, done]) => ({
      ...scenario,
      bound: Math.min(...done.map((r) => r.bound)),
      podsPerSecond: median(done.map((r) => r.podsPerSecond)),
      rounds: done.map((r) => r.podsPerSecond),
      cpuMsPerPod: medianPerKey(done.map((r) => r.cpuMsPerPod)),
      roundDetails: done.map(({ podsPerSecond, cpuMsPerPod, etcd, rssMiB, provisioning }) => ({
        podsPerSecond,
        cpuMsPerPod,
        etcd,
        rssMiB,
        provisioning,
      })),
    }));
  return {
    nodes: nodeCount,
    sampling,
    rounds,
    settleSeconds: settleMs / 1000,
    reset,
    cpuSampled: "at the first and the last binding the pods' watch sees (the rate's span)",
    openLocal,
    results,
  };
}

/** The no-extender scenario a scenario is compared with: the same claims per pod. */
function baselineOf(results: ScenarioFigures[], r: ScenarioFigures): ScenarioFigures | undefined {
  if (r.extender === "none") return undefined;
  return results.find((b) => b.extender === "none" && b.claimsPerPod === r.claimsPerPod);
}

/** null-extender.ts as a process of its own (its CPU apart from the bench's), once it answers. */
async function startNullExtender(cluster: Cluster): Promise<DaemonProcess & { port: number }> {
  const port = await freePort();
  const script = fileURLToPath(new URL("null-extender.ts", import.meta.url));
  const proc = spawnDaemon(cluster, "null-extender", ["--import=tsx", script, `--port=${port}`], {}, "file only");
  try {
    await waitFor("the null extender to answer", async () =>
      (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined,
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { ...proc, port };
}

/** The root `pnpm bench` collects this part's figures from $NLS_BENCH_DIR. */
function writeFigures(figures: object): void {
  if (process.env.NLS_BENCH_DIR)
    writeFileSync(join(process.env.NLS_BENCH_DIR, "scheduler.json"), `${JSON.stringify(figures, null, 2)}\n`);
}

async function main(): Promise<void> {
  const gate = await e2eGate();
  if (!gate.run) {
    console.log(`# scheduler throughput bench skipped: ${gate.why}`);
    writeFigures({ skipped: gate.why });
    return;
  }
  // The "every pod" scenarios measure pods that nothing marks: deploy/base has no admission webhook.
  const { cluster, api } = await startBenchCluster();
  const stops: Array<() => Promise<unknown>> = [() => cluster.stop()];
  try {
    // Its client's default 20 requests/s would hold the PVC scenarios (several writes per claim).
    await cluster.startControllerManager("persistentvolume-binder-controller", [
      "--kube-api-qps=1000",
      "--kube-api-burst=1000",
    ]);
    await api.post("/apis/storage.k8s.io/v1/storageclasses", localStorageClass("nls-lvm"));
    const names = Array.from({ length: nodeCount }, (_, i) => `node-${String(i).padStart(5, "0")}`);
    console.log(`# creating ${nodeCount} nodes with their NodeLocalStorage and agent Lease`);
    await inParallel(names, 32, (n) => addBenchNode(api, n, [{ name: VG, bytes: VG_BYTES }]));
    const lvm = new NodeLvm();
    for (const n of names) lvm.addVg(n, VG, VG_BYTES);
    // Its log lines (one per request) to its file only: kept in this process they would grow it by GBs.
    const extender = await startExtender(cluster, await freePort(), { log: "file only" });
    stops.unshift(() => extender.stop());
    const nullExtender = await startNullExtender(cluster);
    stops.unshift(() => nullExtender.stop());
    const wanted = scenarios.filter((s) => s.pods > 0 && s.name.includes(only));
    const openLocalBuild = wanted.some((s) => s.extender === "open-local")
      ? await openLocalBinary()
      : { skipped: "no open-local scenario chosen (--only)" };
    if ("skipped" in openLocalBuild) console.log(`# open-local scenarios skipped: ${openLocalBuild.skipped}`);
    const openLocalFigure: OpenLocalFigure =
      "bin" in openLocalBuild ? { version: openLocalBuild.version } : openLocalBuild;
    // open-local's extender runs only for its own scenarios: its informers' work on every pod event
    // would otherwise be charged to the scenarios that do not call it.
    let openLocal: OpenLocalExtender | undefined;
    stops.unshift(async () => openLocal?.stop());
    const openLocalFor = async (scenario: Scenario) => {
      if (scenario.extender === "open-local" && !openLocal && "bin" in openLocalBuild) {
        console.log(`# starting open-local's extender ${openLocalBuild.version}`);
        openLocal = await startOpenLocalExtender(cluster, openLocalBuild, await freePort(), names);
      } else if (scenario.extender !== "open-local" && openLocal) {
        await openLocal.stop();
        openLocal = undefined;
      }
    };
    await nlsExtenderSees(extender.debugPort, names);
    const csi = new OpenLocalCsiStandIn(
      api,
      {
        env: { EXTENDER_SVC_IP: "127.0.0.1", EXTENDER_SVC_PORT: String(extender.port) },
        extenderSchedulerNames: ["default-scheduler"],
        post: (url) => doRequest(url, async (host, port) => ({ host, port })),
        createOnNode: lvm.create,
      },
      200,
      PROVISIONER_WORKERS,
    );
    csi.start();
    stops.unshift(() => csi.stop());

    const chosen = wanted.filter((s) => s.extender !== "open-local" || "bin" in openLocalBuild);
    const sittings = new Map<Scenario, Result[]>(chosen.map((s) => [s, []]));
    const ranInOrder: Array<{ round: number; result: Result }> = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? chosen : [...chosen].reverse();
      for (const scenario of order) {
        console.log(`# round ${round + 1} of ${rounds}, ${scenario.name}: ${scenario.pods} pods`);
        await openLocalFor(scenario);
        if (reset === "etcd") await compactAndDefragment(cluster.etcdUrl);
        await sleep(settleMs);
        const namespace = `bench-${round}-${scenarios.indexOf(scenario)}`;
        const extenders = { nls: extender, null: nullExtender, openLocal };
        // The stand-in asks the extender the scenario's scheduler calls, as open-local's CSI driver would.
        csi.options = {
          ...csi.options,
          env: { ...csi.options.env, EXTENDER_SVC_PORT: String(extenderPortOf(extenders, scenario)) },
        };
        csi.attempts.splice(0);
        const result = await runScenario(cluster, api, extenders, scenario, namespace);
        if (scenario.claimsPerPod > 0) result.provisioning = summarizeAttempts(csi.attempts.splice(0));
        sittings.get(scenario)!.push(result);
        ranInOrder.push({ round: round + 1, result });
        // After each scenario: if a later one fails (its pods not all bound in time), these still count.
        writeFigures(figuresOf(sittings, openLocalFigure));
      }
    }
    const figures = figuresOf(sittings, openLocalFigure);
    console.log(
      `\n${nodeCount} nodes, percentageOfNodesToScore ${sampling}, ${rounds} round(s), Node ${process.version}, ${new Date().toISOString()}`,
    );
    console.log(
      "version" in openLocalFigure ? `open-local ${openLocalFigure.version}` : `open-local: ${openLocalFigure.skipped}`,
    );
    console.log("| scenario | pods | pods/s (median) | each round | of the no-extender rate, same claims |");
    console.log("|---|---|---|---|---|");
    for (const r of figures.results) {
      const baseline = baselineOf(figures.results, r);
      const share = baseline ? `${Math.round((100 * r.podsPerSecond) / baseline.podsPerSecond)} %` : "";
      const each = r.rounds.map((x) => x.toFixed(1)).join(", ");
      console.log(`| ${r.name} | ${r.bound} | ${r.podsPerSecond.toFixed(1)} | ${each} | ${share} |`);
    }
    console.log("\nEach process's CPU from the first binding to the last, per pod; in the order run:\n");
    for (const line of cpuTable(
      ranInOrder.map(({ round, result }) => ({
        label: `${round}: ${result.scenario.name} (etcd rev ${result.etcd.revision}, ${(result.etcd.dbSize / 2 ** 20).toFixed(0)} MiB)`,
        podsPerSecond: result.podsPerSecond,
        cpuMsPerPod: result.cpuMsPerPod,
      })),
    ))
      console.log(line);
    console.log("\nEach process's resident memory at the last binding (MiB), in the order run:\n");
    for (const { round, result } of ranInOrder) {
      const rss = Object.entries(result.rssMiB).map(([name, mib]) => `${name} ${mib.toFixed(0)}`);
      console.log(`- ${round}: ${result.scenario.name}: ${rss.join(", ")}`);
    }
    console.log("\nThe stand-in provisioner's CreateVolume attempts per PVC scenario, in the order run:\n");
    for (const { round, result } of ranInOrder) {
      const p = result.provisioning;
      if (!p) continue;
      const commonest = p.commonestFailure
        ? `; commonest failure (${p.commonestFailure.count}×): ${p.commonestFailure.message.slice(0, 200)}`
        : "";
      console.log(
        `- ${round}: ${result.scenario.name}: created ${p.created}, retry ${p.retry}, reschedule ${p.reschedule}${commonest}`,
      );
    }
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

await main();
