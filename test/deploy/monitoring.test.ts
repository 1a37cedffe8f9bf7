import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import anyTest from "ava";
import { parse, stringify } from "yaml";
import type { NodeLocalStorageStatus } from "@nls/api";
import { AgentMetrics } from "../../packages/agent/src/metrics.js";
import { ClusterStore } from "../../packages/extender/src/cache/store.js";
import { ExtenderMetrics } from "../../packages/extender/src/metrics.js";
import { metricsIn } from "./promql.js";
import { deployDir, find, kustomize, readYaml, type KubeObject } from "./render.js";
import { hasKubectl, hasPromtool, run, testWithTool } from "./tools.js";

const promtoolTest = testWithTool(hasPromtool);
const kubectlTest = testWithTool(hasKubectl);
const rulesFile = `${deployDir}monitoring/alerts.rules.yaml`;

promtoolTest("promtool accepts the alert rules", async (t) => {
  const { code, stdout, stderr } = await run("promtool", ["check", "rules", rulesFile]);
  t.is(code, 0, stdout + stderr);
  t.regex(stdout, /SUCCESS: \d+ rules found/);
});

promtoolTest("the alert rules' unit tests pass (promtool test rules)", async (t) => {
  const { code, stdout, stderr } = await run("promtool", ["test", "rules", `${deployDir}monitoring/alerts.test.yaml`]);
  t.is(code, 0, stdout + stderr);
});

promtoolTest("the scrape configuration is a valid Prometheus configuration", async (t) => {
  // Debian's promtool is built without Kubernetes service discovery: check everything else (relabeling,
  // rule files) with the discovery replaced by a static target.
  const config = await readYaml<{ scrape_configs: Array<Record<string, unknown>> }>(
    "deploy/monitoring/prometheus.yaml",
  );
  for (const job of config.scrape_configs) {
    t.deepEqual(job.kubernetes_sd_configs, [{ role: "pod", namespaces: { names: ["kube-system"] } }]);
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ["10.0.0.1:9101"] }];
  }
  const dir = await mkdtemp(`${tmpdir()}/nls-prometheus-`);
  try {
    await writeFile(`${dir}/prometheus.yaml`, stringify(config));
    await copyFile(rulesFile, `${dir}/alerts.rules.yaml`);
    const { code, stdout, stderr } = await run("promtool", ["check", "config", `${dir}/prometheus.yaml`]);
    t.is(code, 0, stdout + stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

kubectlTest("the PrometheusRule of the operator component carries exactly the rules file", async (t) => {
  const objects = await kustomize("overlays/prometheus-operator");
  const rule = find(objects, "PrometheusRule", "nls") as KubeObject & { spec: { groups: unknown } };
  t.deepEqual(rule.spec.groups, (await readYaml<{ groups: unknown }>("deploy/monitoring/alerts.rules.yaml")).groups);
});

kubectlTest(
  "the operator monitors select the daemons' pods and ports and name the jobs the rules expect",
  async (t) => {
    const objects = await kustomize("overlays/prometheus-operator");
    const podMonitor = find(objects, "PodMonitor", "nls-agent") as unknown as {
      spec: {
        jobLabel: string;
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: Array<{ port: string }>;
      };
    };
    const agent = find(objects, "DaemonSet", "nls-agent") as unknown as {
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: { containers: Array<{ ports: Array<{ name: string }> }> };
        };
      };
    };
    t.like(agent.spec.template.metadata.labels, podMonitor.spec.selector.matchLabels);
    t.is(agent.spec.template.metadata.labels[podMonitor.spec.jobLabel], "nls-agent");
    t.true(
      agent.spec.template.spec.containers[0]!.ports.some(
        (p) => p.name === podMonitor.spec.podMetricsEndpoints[0]!.port,
      ),
    );

    const serviceMonitor = find(objects, "ServiceMonitor", "nls-extender") as unknown as {
      spec: { jobLabel: string; selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> };
    };
    // Every replica is scraped, the standby too: the one Service it selects has the pods' selector.
    const selected = objects.filter(
      (o) =>
        o.kind === "Service" &&
        Object.entries(serviceMonitor.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v),
    );
    t.deepEqual(
      selected.map((o) => o.metadata.name),
      ["nls-extender-metrics"],
    );
    const svc = selected[0] as unknown as {
      spec: { ports: Array<{ name: string }>; selector?: Record<string, string> };
    } & KubeObject;
    const pods = find(objects, "Deployment", "nls-extender") as unknown as {
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    t.deepEqual(svc.spec.selector, pods.spec.selector.matchLabels);
    t.is(svc.metadata.labels![serviceMonitor.spec.jobLabel], "nls-extender");
    t.true(svc.spec.ports.some((p) => p.name === serviceMonitor.spec.endpoints[0]!.port));

    const rules = await readFile(rulesFile, "utf8");
    t.true(rules.includes('job="nls-agent"') && rules.includes('job="nls-extender"'));
  },
);

/** The series names of a /metrics exposition (a histogram's as its _bucket, _count and _sum). */
function seriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === "histogram") for (const s of ["_bucket", "_count", "_sum"]) names.add(name + s);
  }
  return names;
}

/** What the agent's /metrics serves, from its own metrics class fed a status with one VG and one device. */
async function agentMetricNames(): Promise<Set<string>> {
  const metrics = new AgentMetrics({ defaultMetrics: true });
  const status: NodeLocalStorageStatus = {
    nodeStorageInfo: {
      deviceInfo: [{ name: "/dev/vdc", mediaType: "hdd", total: 1, readOnly: false, condition: "DiskReady" }],
      volumeGroups: [
        {
          name: "pool",
          physicalVolumes: [],
          logicalVolumes: [],
          total: 1,
          available: 1,
          allocatable: 1,
          condition: "DiskReady",
        },
      ],
    },
  };
  metrics.observeStatus("node-1", status);
  return seriesNames(await metrics.text());
}

/** What the extender's /metrics serves (open-local's families are rendered even with no node). */
async function extenderMetricNames(): Promise<Set<string>> {
  return seriesNames(await new ExtenderMetrics(new ClusterStore(), undefined, { defaultMetrics: true }).render());
}

anyTest("every metric the alerts and the dashboard query is one the daemons export", async (t) => {
  // kube-apiserver's own series for its webhook calls (test/e2e/managed-resources-webhook.e2e.test.ts
  // reads the first from the real API server).
  const apiServer = ["apiserver_admission_webhook_rejection_count", "apiserver_admission_webhook_fail_open_count"];
  const known = new Set([...(await agentMetricNames()), ...(await extenderMetricNames()), "up", ...apiServer]);
  const rules = await readYaml<{ groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }>(
    "deploy/monitoring/alerts.rules.yaml",
  );
  const exprs: Array<[string, string]> = rules.groups.flatMap((g) =>
    g.rules.map((r) => [r.alert, r.expr] as [string, string]),
  );
  const dashboard = JSON.parse(await readFile(`${deployDir}monitoring/grafana-dashboard.json`, "utf8")) as Dashboard;
  for (const panel of dashboard.panels) for (const target of panel.targets) exprs.push([panel.title, target.expr]);
  for (const v of dashboard.templating.list) if (v.query?.query) exprs.push([`variable ${v.name}`, v.query.query]);
  const used = new Set<string>();
  for (const [where, expr] of exprs) {
    const names = metricsIn(expr);
    t.true(names.length > 0, `${where}: no metric found in ${expr}`);
    for (const name of names) {
      used.add(name);
      t.true(known.has(name), `${where}: ${name} is not exported`);
    }
  }
  for (const core of [
    "nls_vg_allocatable_bytes",
    "local_volume_group_used",
    "nls_agent_init_total",
    "nls_extender_request_duration_seconds_bucket",
  ])
    t.true(used.has(core), core);
});

interface Dashboard {
  uid: string;
  title: string;
  panels: Array<{
    id: number;
    title: string;
    datasource: { uid: string };
    gridPos: { x: number; w: number };
    targets: Array<{ expr: string; refId: string }>;
  }>;
  templating: { list: Array<{ name: string; type: string; query?: { query: string } }> };
}

anyTest(
  "the Grafana dashboard is well-formed: unique ids, templated data source, panels within the grid",
  async (t) => {
    const dashboard = JSON.parse(await readFile(`${deployDir}monitoring/grafana-dashboard.json`, "utf8")) as Dashboard;
    t.is(dashboard.uid, "nls-capacity");
    const ids = dashboard.panels.map((p) => p.id);
    t.is(new Set(ids).size, ids.length);
    t.deepEqual(
      dashboard.templating.list.map((v) => v.name),
      ["datasource", "node", "vg"],
    );
    for (const p of dashboard.panels) {
      t.is(p.datasource.uid, "${datasource}", p.title);
      t.true(p.gridPos.x + p.gridPos.w <= 24, p.title);
      t.true(p.targets.length > 0, p.title);
      t.is(new Set(p.targets.map((x) => x.refId)).size, p.targets.length, p.title);
    }
    // Per node and VG: the capacity panels are filtered by the variables.
    const filtered = dashboard.panels
      .flatMap((p) => p.targets.map((x) => x.expr))
      .filter((e) => e.includes('node=~"$node"'));
    t.true(filtered.length >= 5);
    t.deepEqual(parse(JSON.stringify(dashboard)), dashboard);
  },
);

interface AlertRule {
  alert: string;
  annotations: Record<string, string>;
}

const RUNBOOKS = "https://github.com/nls-storage/nls/blob/main/docs/runbooks.md";

anyTest("every alert links its own section of docs/runbooks.md", async (t) => {
  const rules = await readYaml<{ groups: Array<{ rules: AlertRule[] }> }>("deploy/monitoring/alerts.rules.yaml");
  const runbooks = await readFile(`${deployDir}../docs/runbooks.md`, "utf8");
  const sections = new Set([...runbooks.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase()));
  const alerts = rules.groups.flatMap((g) => g.rules);
  t.true(alerts.length >= 16);
  for (const { alert, annotations } of alerts) {
    t.is(annotations.runbook_url, `${RUNBOOKS}#${alert.toLowerCase()}`, alert);
    t.true(sections.has(alert.toLowerCase()), `docs/runbooks.md has no section "## ${alert}"`);
  }
  t.deepEqual([...sections].sort(), alerts.map((a) => a.alert.toLowerCase()).sort(), "no section without an alert");
});

anyTest("every alert has a promtool case in which it fires", async (t) => {
  const rules = await readYaml<{ groups: Array<{ rules: AlertRule[] }> }>("deploy/monitoring/alerts.rules.yaml");
  const cases = await readYaml<{
    tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
  }>("deploy/monitoring/alerts.test.yaml");
  const firing = new Set(
    cases.tests.flatMap((c) =>
      (c.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
    ),
  );
  for (const { alert } of rules.groups.flatMap((g) => g.rules)) t.true(firing.has(alert), `${alert} never fires`);
});

/** test/: the check's file must live where test/'s node_modules resolve @grafana/schema. */
const testDir = fileURLToPath(new URL("../", import.meta.url));

/**
 * Type-checks `dashboard` against Grafana's own dashboard schema (the `Dashboard` type of
 * @grafana/schema, its enums taken as their string values) with tsc; the compiler's errors, if any.
 */
async function grafanaSchemaErrors(dashboard: unknown): Promise<string> {
  const dir = await mkdtemp(`${testDir}.grafana-check-`);
  try {
    await writeFile(
      `${dir}/dashboard.ts`,
      [
        'import type { Dashboard } from "@grafana/schema";',
        "type Wire<T> = T extends string ? `${T}` : T extends readonly (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;",
        `export const dashboard: Wire<Dashboard> = ${JSON.stringify(dashboard, null, 1)};`,
        "",
      ].join("\n"),
    );
    const compiler = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const r = await run(process.execPath, [
      compiler,
      "--noEmit",
      "--strict",
      "--skipLibCheck",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      `${dir}/dashboard.ts`,
    ]);
    return r.code === 0 ? "" : r.stdout + r.stderr;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

anyTest(
  "the Grafana dashboard conforms to Grafana's dashboard schema (@grafana/schema), which catches a misspelt field",
  async (t) => {
    const dashboard = JSON.parse(await readFile(`${deployDir}monitoring/grafana-dashboard.json`, "utf8")) as Dashboard;
    t.is(await grafanaSchemaErrors(dashboard), "");
    const broken = structuredClone(dashboard) as unknown as { panels: Array<Record<string, unknown>> };
    broken.panels[0]!.gridPoz = broken.panels[0]!.gridPos;
    delete broken.panels[0]!.gridPos;
    t.regex(await grafanaSchemaErrors(broken), /'"gridPoz"' does not exist/);
  },
);
