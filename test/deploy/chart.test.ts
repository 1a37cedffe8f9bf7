/**
 * charts/nls renders deploy/'s own files (it links to them), changing only what its values set: with
 * each setting, `helm template` must give exactly the objects of the matching kustomization.
 */
import { lstat, readFile, readlink } from "node:fs/promises";
import { parseAllDocuments, parse } from "yaml";
import { find, kustomize, kustomizeWithComponent, repoRoot, type KubeObject } from "./render.js";
import { leaderRouted } from "./leader-routing.js";
import { hasKubectl, hasTool, run, testWithTool } from "./tools.js";

const test = testWithTool(hasKubectl && hasTool("helm", ["version"]));
const chart = `${repoRoot}charts/nls`;

/** `helm template` of the chart into `namespace` with `--set` values; throws with helm's message. */
async function helmTemplate(
  set: string[] = [],
  namespace = "kube-system",
  extra: string[] = [],
): Promise<KubeObject[]> {
  const args = ["template", "nls", chart, "--namespace", namespace, "--include-crds", ...extra];
  for (const s of set) args.push("--set", s);
  const { code, stdout, stderr } = await run("helm", args);
  if (code !== 0)
    throw new Error(
      stderr
        .split("\n")
        .filter((l) => !l.includes("symbolic link"))
        .join("\n"),
    );
  return parseAllDocuments(stdout)
    .map((d) => d.toJSON() as KubeObject | null)
    .filter((o): o is KubeObject => !!o);
}

const id = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const byId = (objects: KubeObject[]) => new Map(objects.map((o) => [id(o), o]));

/** The same objects, field for field. */
function sameObjects(
  t: { deepEqual(a: unknown, b: unknown, m?: string): void },
  helm: KubeObject[],
  kustomized: KubeObject[],
) {
  const h = byId(helm);
  const k = byId(kustomized);
  t.deepEqual([...h.keys()].sort(), [...k.keys()].sort(), "the same objects");
  for (const [key, obj] of k) t.deepEqual(h.get(key), obj, key);
}

test("with its defaults the chart renders exactly deploy/", async (t) => {
  sameObjects(t, await helmTemplate(), await kustomize());
});

test("monitors and rules on: exactly overlays/prometheus-operator", async (t) => {
  const on = [
    "monitoring.podMonitor.enabled=true",
    "monitoring.serviceMonitor.enabled=true",
    "monitoring.prometheusRule.enabled=true",
  ];
  sameObjects(t, await helmTemplate(on), await kustomize("overlays/prometheus-operator"));
  // Each alone brings only its own object; extra labels land on it.
  const rule = await helmTemplate([
    "monitoring.prometheusRule.enabled=true",
    "monitoring.prometheusRule.labels.release=kps",
  ]);
  t.deepEqual(
    rule.filter((o) => o.apiVersion.startsWith("monitoring.coreos.com/")).map((o) => o.kind),
    ["PrometheusRule"],
  );
  t.is(find(rule, "PrometheusRule", "nls").metadata.labels?.release, "kps");
});

test("the second scheduler on: exactly deploy/ with components/second-scheduler", async (t) => {
  sameObjects(
    t,
    await helmTemplate(["secondScheduler.enabled=true"]),
    await kustomizeWithComponent("second-scheduler"),
  );
});

test("managedResources off: exactly deploy/base (every pod through the extender)", async (t) => {
  sameObjects(t, await helmTemplate(["managedResources.enabled=false"]), await kustomize("base"));
});

test("managedResources in policy mode: exactly deploy/base with components/managed-resources; refused before 1.34", async (t) => {
  const policy = ["managedResources.mode=policy"];
  sameObjects(
    t,
    await helmTemplate(policy, "kube-system", ["--kube-version", "1.34.4"]),
    await kustomizeWithComponent("managed-resources"),
  );
  await t.throwsAsync(helmTemplate(policy, "kube-system", ["--kube-version", "1.33.5"]), {
    message: /MutatingAdmissionPolicy needs Kubernetes >= 1\.34/,
  });
});

test("managedResources in webhook mode (the default): exactly deploy/, on any version", async (t) => {
  const webhook = ["managedResources.enabled=true", "managedResources.mode=webhook"];
  sameObjects(t, await helmTemplate(webhook, "kube-system", ["--kube-version", "1.30.0"]), await kustomize(""));
  sameObjects(
    t,
    await helmTemplate([...webhook, "managedResources.webhook.certificate=files"]),
    await kustomizeWithComponent("webhook-certificate-files"),
  );
  // In another namespace the extender's certificate rights are there too.
  const keeping = await helmTemplate(webhook, "nls-system");
  t.is(find(keeping, "Secret", "nls-extender-webhook-tls").metadata.namespace, "nls-system");
  const binding = find(keeping, "RoleBinding", "nls-extender-webhook-certificate") as unknown as {
    metadata: { namespace: string };
    subjects: Array<{ namespace: string }>;
  };
  t.is(binding.metadata.namespace, "nls-system");
  t.is(binding.subjects[0]!.namespace, "nls-system");
  await t.throwsAsync(helmTemplate([...webhook, "managedResources.webhook.certificate=vault"]), {
    message: /managedResources.webhook.certificate: "vault" is neither secret nor files/,
  });
  // In another namespace the webhook calls the Service there; the CA bundle and annotations are set.
  const objects = await helmTemplate(
    [
      ...webhook,
      "managedResources.webhook.certificate=files",
      "managedResources.webhook.caBundle=Q0E=",
      "managedResources.webhook.annotations.cert-manager\\.io/inject-ca-from=nls-system/nls-webhook",
    ],
    "nls-system",
  );
  const config = find(objects, "MutatingWebhookConfiguration", "nls-local-storage-request") as unknown as {
    metadata: { annotations: Record<string, string> };
    webhooks: Array<{ clientConfig: { caBundle: string; service: { namespace: string; name: string } } }>;
  };
  t.like(config.webhooks[0]!.clientConfig, {
    caBundle: "Q0E=",
    service: { namespace: "nls-system", name: "nls-extender-webhook" },
  });
  t.deepEqual(config.metadata.annotations, { "cert-manager.io/inject-ca-from": "nls-system/nls-webhook" });
  t.is(find(objects, "Service", "nls-extender-webhook").metadata.namespace, "nls-system");
  await t.throwsAsync(helmTemplate(["managedResources.enabled=true", "managedResources.mode=cel"]), {
    message: /managedResources.mode: "cel" is neither policy nor webhook/,
  });
});

test("extender.agentLease=optional: exactly deploy/migrate-from-open-local", async (t) => {
  sameObjects(t, await helmTemplate(["extender.agentLease=optional"]), await kustomize("migrate-from-open-local"));
  await t.throwsAsync(helmTemplate(["extender.agentLease=sometimes"]), { message: /neither required nor optional/ });
});

test("the Grafana dashboard ConfigMap carries deploy/monitoring's dashboard and the sidecar's label", async (t) => {
  const objects = await helmTemplate([
    "monitoring.grafanaDashboard.enabled=true",
    "monitoring.grafanaDashboard.namespace=monitoring",
  ]);
  const cm = find(objects, "ConfigMap", "nls-grafana-dashboard") as KubeObject & { data: Record<string, string> };
  t.is(cm.metadata.namespace, "monitoring");
  t.is(cm.metadata.labels?.grafana_dashboard, "1");
  t.is(cm.data["nls.json"], await readFile(`${repoRoot}deploy/monitoring/grafana-dashboard.json`, "utf8"));
  t.false(
    (await helmTemplate()).some((o) => o.kind === "ConfigMap" && o.metadata.name === "nls-grafana-dashboard"),
    "off by default",
  );
});

test("admission policies: off leaves them out; on is refused for a cluster before 1.30", async (t) => {
  const off = await helmTemplate(["admissionPolicies.enabled=false"]);
  // The policies, their bindings and their parameters (ConfigMaps) go; nothing else does.
  const isPolicy = (o: KubeObject) =>
    o.kind.startsWith("ValidatingAdmissionPolicy") || !!o.metadata.labels?.["nls.csi.aliyun.com/policy-params"];
  t.false(off.some(isPolicy));
  t.deepEqual(
    off.map(id).sort(),
    (await kustomize())
      .filter((o) => !isPolicy(o))
      .map(id)
      .sort(),
  );
  await t.throwsAsync(helmTemplate([], "kube-system", ["--kube-version", "1.29.4"]), {
    message: /need Kubernetes >= 1\.30, this cluster is v1\.29\.4; set admissionPolicies\.enabled=false/,
  });
  await t.notThrowsAsync(
    helmTemplate(["admissionPolicies.enabled=false"], "kube-system", ["--kube-version", "1.29.4"]),
  );
});

interface PodSpecHolder {
  spec: {
    replicas?: number;
    strategy?: unknown;
    clusterIP?: string;
    template: { spec: { nodeSelector?: unknown; tolerations?: unknown; containers: Array<{ image: string }> } };
  };
}

test("values change what they name and nothing else: image, namespace, agent placement, extender replicas and strategy", async (t) => {
  const objects = await helmTemplate(
    [
      "image.repository=registry.example.com/team/nls",
      "image.tag=1.2.3",
      "agent.nodeSelector.storage=local",
      "agent.tolerations=null",
      "extender.replicas=0",
      "extender.strategy.type=Recreate",
      "extender.strategy.rollingUpdate=null",
      "extender.openLocalService.clusterIP=10.96.0.40",
      "extender.service.clusterIP=10.96.0.23",
      "secondScheduler.enabled=true",
    ],
    "nls-system",
  );
  const agent = find(objects, "DaemonSet", "nls-agent") as unknown as PodSpecHolder;
  const extender = find(objects, "Deployment", "nls-extender") as unknown as PodSpecHolder;
  for (const w of [agent, extender])
    t.is(w.spec.template.spec.containers[0]!.image, "registry.example.com/team/nls:1.2.3");
  t.deepEqual(agent.spec.template.spec.nodeSelector, { "kubernetes.io/os": "linux", storage: "local" });
  t.is(agent.spec.template.spec.tolerations, undefined);
  t.is(extender.spec.replicas, 0);
  t.deepEqual(extender.spec.strategy, { type: "Recreate" });
  t.is(
    (find(objects, "Service", "open-local-scheduler-extender") as unknown as PodSpecHolder).spec.clusterIP,
    "10.96.0.40",
  );
  t.is((find(objects, "Service", "nls-extender") as unknown as PodSpecHolder).spec.clusterIP, "10.96.0.23");
  // Everything namespaced moves to the release's namespace, bindings' subjects too — but the role that
  // reads the API server's authentication configuration exists only in kube-system, and the agents'
  // Leases keep their own namespace.
  const leaseRights = new Set(
    (await kustomize())
      .filter((o) => o.metadata.namespace === "nls-node-lease")
      .map((o) => `${o.kind}/${o.metadata.name}`),
  );
  t.true(leaseRights.size > 0);
  for (const o of objects.filter((o) => o.metadata.namespace !== undefined)) {
    const want =
      o.metadata.name === "nls-scheduler-authentication-reader"
        ? "kube-system"
        : leaseRights.has(`${o.kind}/${o.metadata.name}`)
          ? "nls-node-lease"
          : "nls-system";
    t.is(o.metadata.namespace, want, id(o));
  }
  for (const o of objects) {
    for (const s of (o as unknown as { subjects?: Array<{ namespace?: string }> }).subjects ?? [])
      t.is(s.namespace, "nls-system", id(o));
  }
  const config = parse(
    (find(objects, "ConfigMap", "nls-scheduler-config") as unknown as { data: Record<string, string> }).data[
      "config.yaml"
    ]!,
  ) as { extenders: Array<{ urlPrefix: string }>; leaderElection: { resourceNamespace: string } };
  t.is(config.extenders[0]!.urlPrefix, "http://nls-extender.nls-system.svc:23000/scheduler");
  t.is(config.leaderElection.resourceNamespace, "nls-system");
  // The rest of the extender Deployment is deploy/'s.
  const plain = find(await kustomize(), "Deployment", "nls-extender") as unknown as PodSpecHolder;
  t.deepEqual(
    { ...extender.spec, replicas: undefined, strategy: undefined, template: undefined },
    { ...plain.spec, replicas: undefined, strategy: undefined, template: undefined },
  );
  t.is(
    (find(await helmTemplate(["extender.replicas=3"]), "Deployment", "nls-extender") as unknown as PodSpecHolder).spec
      .replicas,
    3,
  );
  const noAlias = await helmTemplate(["extender.openLocalService.enabled=false"]);
  t.false(noAlias.some((o) => o.metadata.name === "open-local-scheduler-extender"));
  // Without the alias the leader writes, and may write, the nls-extender slice alone.
  t.deepEqual(leaderRouted(t, noAlias), ["nls-extender"]);
  const role = find(noAlias, "Role", "nls-extender") as unknown as {
    rules: Array<{ resources: string[]; resourceNames?: string[] }>;
  };
  t.deepEqual(role.rules.find((r) => r.resources.includes("endpointslices"))?.resourceNames, ["nls-extender"]);
});

test("helm lint passes with the defaults and with everything on", async (t) => {
  for (const set of [
    [],
    ["secondScheduler.enabled=true", "monitoring.podMonitor.enabled=true", "monitoring.grafanaDashboard.enabled=true"],
  ]) {
    const args = ["lint", "--strict", chart];
    for (const s of set) args.push("--set", s);
    const r = await run("helm", args);
    t.is(r.code, 0, r.stdout + r.stderr);
  }
});

test("the chart's version is nls' version, its image deploy/'s, and its files are deploy/'s own", async (t) => {
  const { version } = JSON.parse(await readFile(`${repoRoot}package.json`, "utf8")) as { version: string };
  const meta = parse(await readFile(`${chart}/Chart.yaml`, "utf8")) as { version: string; appVersion: string };
  t.is(meta.version, version);
  t.is(meta.appVersion, version);
  const values = parse(await readFile(`${chart}/values.yaml`, "utf8")) as {
    image: { repository: string; tag: string };
  };
  const base = parse(await readFile(`${repoRoot}deploy/base/kustomization.yaml`, "utf8")) as {
    images: Array<{ newName: string }>;
  };
  t.is(values.image.repository, base.images[0]!.newName);
  t.is(values.image.tag, "", "the tag follows appVersion");
  const links: Array<[string, string]> = [
    ["files/base", "../../../deploy/base"],
    ["files/prometheus-operator", "../../../deploy/components/prometheus-operator"],
    ["files/second-scheduler", "../../../deploy/components/second-scheduler"],
    ["files/monitoring", "../../../deploy/monitoring"],
    ["crds/csi.aliyun.com_nodelocalstorages.yaml", "../../../crds/csi.aliyun.com_nodelocalstorages.yaml"],
    [
      "crds/csi.aliyun.com_nodelocalstorageinitconfigs.yaml",
      "../../../crds/csi.aliyun.com_nodelocalstorageinitconfigs.yaml",
    ],
  ];
  for (const [link, target] of links) {
    t.true((await lstat(`${chart}/${link}`)).isSymbolicLink(), link);
    t.is(await readlink(`${chart}/${link}`), target, link);
  }
});
