/**
 * A real Prometheus (Debian's `prometheus`) scraping both built daemons of a local cluster (real agent on
 * a real VG, the extender, kube-scheduler), with deploy/'s alert rules loaded: what the dashboard and the
 * alerts read is there, with the values the daemons reported — the VG's allocatable bytes from the
 * agent, the committed bytes from the extender — and the capacity alerts' join works on them.
 */
import { gatedSerial } from "../gate.js";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { startLocalCluster, type LocalCluster } from "../local-cluster/local-cluster.js";
import { Teardown } from "../local-cluster/teardown.js";
import { e2eGate, freePort, run, waitFor } from "./cluster.js";
import { lvmUnavailable } from "./lvm.js";
import { stopProcess } from "./stop-process.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const MI = 2 ** 20;

const gate = await e2eGate();
const lvmWhy = await lvmUnavailable();
const promWhy =
  (await run("sh", ["-c", "command -v prometheus"])).exitCode === 0 ? undefined : "prometheus not installed";
const why = gate.why ?? lvmWhy ?? promWhy;
if (why && process.env.NLS_REQUIRE_REAL_TOOLS === "1") throw new Error(`Prometheus e2e needs its tools in CI: ${why}`);
const enabled = !why;
if (!enabled) console.log(`# Prometheus e2e skipped: ${why}`);
const test = gatedSerial(enabled);

const ctx = {} as {
  teardown: Teardown;
  local: LocalCluster;
  prometheus: ChildProcess;
  promUrl: string;
  dir: string;
};

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promql: string): Promise<Sample[]> {
  const res = await fetch(`${ctx.promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] }; error?: string };
  if (body.status !== "success") throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** The one sample of `promql` once Prometheus has it (it scrapes every second). */
const sampleOf = (promql: string) =>
  waitFor(`Prometheus to have ${promql}`, async () => (await query(promql))[0], 60_000);

test.before(async () => {
  if (!enabled) return;
  ctx.teardown = new Teardown(() => undefined);
  ctx.local = await startLocalCluster({ nodes: 1, vgSizeMiB: 1024 }, ctx.teardown, () => undefined);
  const node = ctx.local.nodes[0]!;
  // 128Mi of the node's VG held by a provisioned volume: the extender's committed bytes.
  const apply = (obj: object) => ctx.local.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));
  await apply({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "pv-prom", annotations: { "csi.aliyun.com/pv-allocated": JSON.stringify({ vgName: node.vg }) } },
    spec: {
      capacity: { storage: "128Mi" },
      accessModes: ["ReadWriteOnce"],
      storageClassName: "open-local-lvm",
      csi: { driver: "local.csi.aliyun.com", volumeHandle: "pv-prom", volumeAttributes: { vgName: node.vg } },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node.name] }] },
          ],
        },
      },
    },
  });

  ctx.dir = await mkdtemp(join(tmpdir(), "nls-prometheus-"));
  await ctx.teardown.add(`temp dir ${ctx.dir}`, () => rm(ctx.dir, { recursive: true, force: true }));
  await copyFile(join(root, "deploy/monitoring/alerts.rules.yaml"), join(ctx.dir, "alerts.rules.yaml"));
  // deploy/monitoring/prometheus.yaml finds the pods through Kubernetes; here the daemons are processes,
  // so the same job names point at them directly.
  const target = (url: string) => new URL(url).host;
  await writeFile(
    join(ctx.dir, "prometheus.yaml"),
    stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      rule_files: ["alerts.rules.yaml"],
      scrape_configs: [
        { job_name: "nls-agent", static_configs: [{ targets: [target(node.metricsUrl!)] }] },
        { job_name: "nls-extender", static_configs: [{ targets: [target(ctx.local.extenderUrl)] }] },
      ],
    }),
  );
  const port = await freePort();
  ctx.promUrl = `http://127.0.0.1:${port}`;
  const child = spawn(
    "prometheus",
    [
      `--config.file=${join(ctx.dir, "prometheus.yaml")}`,
      `--storage.tsdb.path=${join(ctx.dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  ctx.prometheus = child;
  await ctx.teardown.add("prometheus", async () => {
    await stopProcess(child);
  });
  await waitFor("Prometheus to be ready", async () =>
    (await fetch(`${ctx.promUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined,
  );
});

test.after.always(async () => {
  await ctx.teardown?.run();
});

test("Prometheus scrapes both daemons: the agent's allocatable bytes and the extender's committed bytes", async (t) => {
  const node = ctx.local.nodes[0]!;
  await waitFor("both targets up", async () => {
    const up = await query("up == 1");
    return up.length === 2 ? up : undefined;
  });
  const nls = JSON.parse(await ctx.local.cluster.kubectlOk(["get", "nls", node.name, "-o", "json"]));
  const vg = nls.status.nodeStorageInfo.volumeGroups.find((v: { name: string }) => v.name === node.vg);
  const allocatable = await sampleOf(`nls_vg_allocatable_bytes{job="nls-agent",node="${node.name}",vg="${node.vg}"}`);
  t.is(Number(allocatable.value[1]), vg.allocatable, "what the agent reported in the NodeLocalStorage");

  const cache = (await (await fetch(`${ctx.local.debugUrl}/cache`)).json()) as {
    ledger: { nodes: Record<string, { vgs: Record<string, number> }> };
  };
  const committed = cache.ledger.nodes[node.name]!.vgs[node.vg]!;
  t.is(committed, 128 * MI);
  const used = await sampleOf(
    `local_volume_group_used{job="nls-extender",nodename="${node.name}",vgname="${node.vg}"}`,
  );
  t.is(Number(used.value[1]), committed, "what the extender's ledger holds");

  // The capacity alerts' join of the two (their expression without the threshold) on real series.
  const ratio = await sampleOf(`
    max by (node, vg) (
      label_replace(label_replace(local_volume_group_used, "node", "$1", "nodename", "(.+)"), "vg", "$1", "vgname", "(.+)")
    )
    / on (node, vg)
    max by (node, vg) (nls_vg_allocatable_bytes > 0)`);
  t.deepEqual(ratio.metric, { node: node.name, vg: node.vg });
  t.is(Number(ratio.value[1]), committed / vg.allocatable);

  // The new series the alerts read exist from the start, at 0.
  t.is(Number((await sampleOf('nls_agent_host_command_errors_total{command="lvm"}')).value[1]), 0);
  t.is(Number((await sampleOf('nls_extender_watch_failures_total{kind="PersistentVolumeClaim"}')).value[1]), 0);
  t.true(Number((await sampleOf("nls_agent_last_reconcile_success_timestamp_seconds")).value[1]) > 0);
});

test("Prometheus loads deploy/'s alert rules and evaluates every one without error; none fires on a healthy cluster", async (t) => {
  const rules = await waitFor("the rules to be evaluated", async () => {
    const body = (await (await fetch(`${ctx.promUrl}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; state: string }> }> };
    };
    const all = body.data.groups.flatMap((g) => g.rules);
    return all.length > 0 && all.every((r) => r.health === "ok") ? all : undefined;
  });
  t.true(rules.length >= 16);
  t.deepEqual(
    rules.filter((r) => r.state === "firing").map((r) => r.name),
    [],
  );
});

test("every query of deploy/'s Grafana dashboard runs on the real Prometheus and finds series", async (t) => {
  const dashboard = JSON.parse(await readFile(join(root, "deploy/monitoring/grafana-dashboard.json"), "utf8")) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  // What Grafana sends with the variables at "All"; a panel of faults may rightly be empty when all is well.
  const mayBeEmpty = new Set(["Devices not ready"]);
  await sampleOf("nodejs_eventloop_lag_p99_seconds");
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const expr = target.expr.replaceAll('"$node"', '".*"').replaceAll('"$vg"', '".*"');
      const result = await waitFor(`${panel.title}: ${expr}`, async () => {
        const r = await query(expr);
        return r.length > 0 || mayBeEmpty.has(panel.title) ? r : undefined;
      });
      t.true(Array.isArray(result), panel.title);
    }
  }
});
