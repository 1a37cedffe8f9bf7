import { readdir, readFile } from "node:fs/promises";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { DaemonSet, Deployment } from "kubernetes-models/apps/v1";
import { Service, type IContainer, type IPodSpec } from "kubernetes-models/v1";
import { PROVISIONER, SC_PARAM_VOLUME_TYPE, DEFAULT_INIT_CONFIG_NAME, EXTENDER_DEFAULT_PORT } from "@nls/api";
import { seedInitConfig } from "../crds/samples.js";
import { openLocalInstall } from "../e2e/open-local-install.js";
import {
  deployDir,
  find,
  kustomize,
  kustomizeOver,
  kustomizeWithComponent,
  readYaml,
  type KubeObject,
} from "./render.js";
import { leaderRouted, type Slice } from "./leader-routing.js";
import { hasKubectl, testWithTool } from "./tools.js";

const test = testWithTool(hasKubectl);

/** The built-in kinds kubernetes-models knows, validated with its bundled OpenAPI schemas. */
async function validateBuiltIn(obj: KubeObject): Promise<void> {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const mod = (await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/v1`)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = mod[obj.kind];
  if (!Model) throw new Error(`kubernetes-models has no ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}

const customGroups = ["csi.aliyun.com/", "monitoring.coreos.com/"];
const isCustom = (o: KubeObject) => customGroups.some((g) => o.apiVersion.startsWith(g));

test("deploy/ renders exactly the base objects and the admission webhook, in kube-system (agent Leases: nls-node-lease), without samples or operator CRs", async (t) => {
  const objects = await kustomize();
  const ids = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`).sort();
  t.deepEqual(ids, [
    "ClusterRole//nls-agent",
    "ClusterRole//nls-extender",
    "ClusterRole//nls-extender-webhook-ca-bundle",
    "ClusterRole//nls-kubectl-reader",
    "ClusterRole//nls-nodelocalstorage-editor",
    "ClusterRole//nls-nodelocalstorage-viewer",
    "ClusterRoleBinding//nls-agent",
    "ClusterRoleBinding//nls-extender",
    "ClusterRoleBinding//nls-extender-webhook-ca-bundle",
    "ConfigMap/kube-system/nls-agent",
    "ConfigMap/kube-system/nls-extender",
    "CustomResourceDefinition//nodelocalstorageinitconfigs.csi.aliyun.com",
    "CustomResourceDefinition//nodelocalstorages.csi.aliyun.com",
    "DaemonSet/kube-system/nls-agent",
    "Deployment/kube-system/nls-extender",
    "EndpointSlice/kube-system/nls-extender",
    "EndpointSlice/kube-system/open-local-scheduler-extender",
    "MutatingWebhookConfiguration//nls-local-storage-request",
    "Namespace//nls-node-lease",
    "PodDisruptionBudget/kube-system/nls-extender",
    "Role/kube-system/nls-agent",
    "Role/kube-system/nls-extender",
    "Role/kube-system/nls-extender-webhook-certificate",
    "Role/nls-node-lease/nls-agent-lease",
    "Role/nls-node-lease/nls-extender-lease",
    "Role/nls-node-lease/nls-kubectl-lease-reader",
    "RoleBinding/kube-system/nls-agent",
    "RoleBinding/kube-system/nls-extender",
    "RoleBinding/kube-system/nls-extender-webhook-certificate",
    "RoleBinding/nls-node-lease/nls-agent-lease",
    "RoleBinding/nls-node-lease/nls-extender-lease",
    "Secret/kube-system/nls-extender-webhook-tls",
    "Service/kube-system/nls-extender",
    "Service/kube-system/nls-extender-metrics",
    "Service/kube-system/nls-extender-webhook",
    "Service/kube-system/open-local-scheduler-extender",
    "ServiceAccount/kube-system/nls-agent",
    "ServiceAccount/kube-system/nls-extender",
    "ValidatingAdmissionPolicy//nls-agent-events",
    "ValidatingAdmissionPolicy//nls-agent-node-restriction",
    "ValidatingAdmissionPolicy//nls-extender-own-lease",
    "ValidatingAdmissionPolicy//nls-extender-pvc-annotation-only",
    "ValidatingAdmissionPolicy//nls-extender-webhook-ca-bundle-only",
    "ValidatingAdmissionPolicyBinding//nls-agent-events",
    "ValidatingAdmissionPolicyBinding//nls-agent-node-restriction",
    "ValidatingAdmissionPolicyBinding//nls-extender-own-lease",
    "ValidatingAdmissionPolicyBinding//nls-extender-pvc-annotation-only",
    "ValidatingAdmissionPolicyBinding//nls-extender-webhook-ca-bundle-only",
  ]);
});

test("every object but the generated CRDs carries app.kubernetes.io/part-of=nls (uninstall selects on it)", async (t) => {
  for (const dir of ["", "overlays/prometheus-operator", "samples"]) {
    for (const o of (await kustomize(dir)).filter(
      (o) => o.kind !== "CustomResourceDefinition" && o.kind !== "NodeLocalStorageInitConfig",
    )) {
      t.is(o.metadata.labels?.["app.kubernetes.io/part-of"], "nls", `${dir}: ${o.kind}/${o.metadata.name}`);
    }
  }
});

test("the CRDs in deploy/ are the generated files in crds/", async (t) => {
  const objects = await kustomize();
  for (const file of ["csi.aliyun.com_nodelocalstorages.yaml", "csi.aliyun.com_nodelocalstorageinitconfigs.yaml"]) {
    const want = await readYaml<KubeObject>(`crds/${file}`);
    t.deepEqual(find(objects, "CustomResourceDefinition", want.metadata.name), want, file);
  }
});

for (const dir of ["", "migrate-from-open-local", "overlays/prometheus-operator", "samples"]) {
  test(`every built-in object of deploy/${dir} validates offline (kubernetes-models)`, async (t) => {
    const objects = (await kustomize(dir)).filter((o) => !isCustom(o));
    t.true(objects.length > 0);
    for (const obj of objects) {
      await t.notThrowsAsync(validateBuiltIn(obj), `${obj.kind}/${obj.metadata.name}`);
    }
  });
}

test("a broken object fails the offline validation (the check can fail)", async (t) => {
  const ds = find(await kustomize(), "DaemonSet", "nls-agent");
  const pod = (ds as unknown as { spec: { template: { spec: { containers: Array<{ name?: string }> } } } }).spec
    .template;
  delete pod.spec.containers[0]!.name;
  await t.throwsAsync(validateBuiltIn(ds), { message: /containers\/0 must have required property name/ });
});

test("the sample StorageClass is LVM on local.csi.aliyun.com, WaitForFirstConsumer", async (t) => {
  const sc = find(await kustomize("samples"), "StorageClass", "open-local-lvm") as KubeObject & {
    provisioner: string;
    parameters: Record<string, string>;
    volumeBindingMode: string;
  };
  t.is(sc.provisioner, PROVISIONER);
  t.is(sc.parameters[SC_PARAM_VOLUME_TYPE], "LVM");
  t.is(sc.volumeBindingMode, "WaitForFirstConsumer");
});

test("the sample NodeLocalStorageInitConfig is the seed and validates against the CRD schema", async (t) => {
  const nlsc = find(await kustomize("samples"), "NodeLocalStorageInitConfig", DEFAULT_INIT_CONFIG_NAME);
  const crd = await readYaml<{ spec: { versions: Array<{ schema: { openAPIV3Schema: object } }> } }>(
    "crds/csi.aliyun.com_nodelocalstorageinitconfigs.yaml",
  );
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(
    crd.spec.versions[0]!.schema.openAPIV3Schema,
  );
  t.true(validate(nlsc), JSON.stringify(validate.errors));
  t.deepEqual((nlsc as unknown as typeof seedInitConfig).spec?.globalConfig, seedInitConfig.spec?.globalConfig);
});

async function podSpec(kind: "DaemonSet" | "Deployment", name: string): Promise<IPodSpec> {
  const obj = find(await kustomize(), kind, name);
  const model = kind === "DaemonSet" ? new DaemonSet(obj as never) : new Deployment(obj as never);
  return model.spec!.template.spec!;
}

const only = (spec: IPodSpec): IContainer => {
  if (spec.containers.length !== 1) throw new Error(`expected one container, got ${spec.containers.length}`);
  return spec.containers[0]!;
};

test("the extender runs non-root, read-only, without privilege escalation or capabilities", async (t) => {
  const spec = await podSpec("Deployment", "nls-extender");
  const c = only(spec);
  t.is(spec.hostNetwork ?? false, false);
  t.is(spec.hostPID ?? false, false);
  t.true(spec.securityContext?.runAsNonRoot);
  t.true((spec.securityContext?.runAsUser ?? 0) > 0);
  t.is(spec.securityContext?.seccompProfile?.type, "RuntimeDefault");
  t.like(c.securityContext, {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
  });
  t.is(c.securityContext?.capabilities?.add, undefined);
  t.deepEqual(
    spec.volumes?.map((v) => Object.keys(v).filter((k) => k !== "name")),
    [["emptyDir"]],
    "no host paths",
  );
});

test("the agent is privileged for the block devices but does not share the host's PID or network namespace", async (t) => {
  const spec = await podSpec("DaemonSet", "nls-agent");
  const c = only(spec);
  t.is(spec.hostPID ?? false, false);
  t.is(spec.hostNetwork ?? false, false);
  t.is(spec.hostIPC ?? false, false);
  t.like(c.securityContext, { privileged: true, runAsUser: 0, readOnlyRootFilesystem: true });
  const hostPaths = Object.fromEntries(
    (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => [v.name, v.hostPath!.path]),
  );
  const mounts = Object.fromEntries(
    (c.volumeMounts ?? []).map((m) => [m.mountPath, hostPaths[m.name] ?? "(not host)"]),
  );
  t.deepEqual(mounts, {
    "/dev": "/dev",
    "/sys": "/sys",
    "/etc/lvm": "/etc/lvm",
    "/run/lvm": "/run/lvm",
    "/run/lock/lvm": "/run/lock/lvm",
    "/run/udev": "/run/udev",
    "/mnt/open-local": "/mnt/open-local",
    "/host/proc": "/proc",
    "/tmp": "(not host)",
  });
  const readOnly = (c.volumeMounts ?? []).filter((m) => m.readOnly).map((m) => m.mountPath);
  t.deepEqual(readOnly.sort(), ["/host/proc", "/run/udev", "/sys"]);
  // The host's mount table, read through the host's procfs: mounted host disks count as mounted.
  t.true((c.args ?? []).includes("--mountinfo=/host/proc/1/mountinfo"));
  // And the host's processes: a device one of them holds open is in use.
  t.true((c.args ?? []).includes("--proc=/host/proc"));
});

test("the agent gets its node and namespace from the downward API", async (t) => {
  const c = only(await podSpec("DaemonSet", "nls-agent"));
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
  t.deepEqual(env, { NODE_NAME: "spec.nodeName", POD_NAMESPACE: "metadata.namespace" });
  t.true(c.args?.includes("--mount-root=/mnt/open-local"));
});

for (const [kind, name, port] of [
  ["DaemonSet", "nls-agent", 9101],
  ["Deployment", "nls-extender", EXTENDER_DEFAULT_PORT],
] as const) {
  test(`${name}: probes on /healthz and /readyz, scrape annotations and resources agree with its port`, async (t) => {
    const obj = find(await kustomize(), kind, name);
    const spec = await podSpec(kind, name);
    const c = only(spec);
    const portName = c.ports?.find((p) => p.containerPort === port)?.name;
    t.truthy(portName, `a named container port ${port}`);
    t.like(c.livenessProbe?.httpGet, { path: "/healthz", port: portName });
    t.like(c.readinessProbe?.httpGet, { path: "/readyz", port: portName });
    const annotations = (
      obj as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }
    ).spec.template.metadata.annotations;
    t.deepEqual(annotations, {
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(port),
      "prometheus.io/path": "/metrics",
    });
    t.truthy(c.resources?.requests?.cpu);
    t.truthy(c.resources?.requests?.memory);
    t.truthy(c.resources?.limits?.memory);
    t.truthy(c.resources?.limits?.cpu);
  });
}

test("the extender is two leader-elected replicas that surge on rollout, a drain may take one, and the Service reaches the leader on 23000", async (t) => {
  const objects = await kustomize();
  const deploy = new Deployment(find(objects, "Deployment", "nls-extender") as never);
  t.is(deploy.spec?.replicas, 2);
  t.deepEqual(deploy.spec?.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  t.true(only(deploy.spec!.template.spec!).args?.includes("--leader-elect"));
  t.is(
    deploy.spec?.template.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]
      ?.podAffinityTerm.topologyKey,
    "kubernetes.io/hostname",
  );
  const pdb = find(objects, "PodDisruptionBudget", "nls-extender") as unknown as {
    spec: { minAvailable?: number; maxUnavailable?: number };
  };
  t.deepEqual({ min: pdb.spec.minAvailable, max: pdb.spec.maxUnavailable }, { min: 1, max: undefined });
  const svc = new Service(find(objects, "Service", "nls-extender") as never);
  t.is(svc.spec?.ports?.[0]?.port, EXTENDER_DEFAULT_PORT);
  t.deepEqual(leaderRouted(t, objects), ["nls-extender", "open-local-scheduler-extender"]);
});

test("the alias Service open-local-scheduler-extender sends open-local's CSI driver to the same leader and port", async (t) => {
  const objects = await kustomize();
  const main = new Service(find(objects, "Service", "nls-extender") as never);
  const alias = new Service(find(objects, "Service", "open-local-scheduler-extender") as never);
  // open-local's CSI controller calls http://open-local-scheduler-extender:23000 in its own namespace.
  t.is(alias.metadata?.namespace, "kube-system");
  t.deepEqual(alias.spec?.ports, main.spec?.ports);
  t.is(alias.spec?.ports?.[0]?.port, 23000);
  t.deepEqual(
    (find(objects, "EndpointSlice", "open-local-scheduler-extender") as Slice).ports,
    (find(objects, "EndpointSlice", "nls-extender") as Slice).ports,
  );
  // The ServiceMonitor selects app.kubernetes.io/name=nls-extender: the alias must not be scraped twice.
  t.not(alias.metadata?.labels?.["app.kubernetes.io/name"], "nls-extender");
});

test("the scheduler configuration registers the extender as docs/extender-protocol.md shows, at the rendered Service", async (t) => {
  const config = await readYaml("deploy/scheduler/kube-scheduler-config.yaml");
  t.deepEqual(config, {
    apiVersion: "kubescheduler.config.k8s.io/v1",
    kind: "KubeSchedulerConfiguration",
    clientConnection: { kubeconfig: "/etc/kubernetes/scheduler.conf" },
    extenders: [
      {
        urlPrefix: "http://nls-extender.kube-system.svc:23000/scheduler",
        filterVerb: "predicates",
        prioritizeVerb: "priorities",
        weight: 10,
        nodeCacheCapable: true,
        httpTimeout: "5s",
        ignorable: false,
        managedResources: [{ name: "nls.csi.aliyun.com/local-storage", ignoredByScheduler: true }],
      },
    ],
  });
  const svc = find(await kustomize(), "Service", "nls-extender") as KubeObject & {
    spec: { ports: Array<{ port: number }> };
  };
  t.is(
    `http://${svc.metadata.name}.${svc.metadata.namespace}.svc:${svc.spec.ports[0]!.port}/scheduler`,
    (config as { extenders: Array<{ urlPrefix: string }> }).extenders[0]!.urlPrefix,
  );
});

/** Every directory of deploy/ holding a kustomization, relative to deploy/ ("" for deploy/ itself). */
async function kustomizations(): Promise<Array<{ dir: string; kind: string }>> {
  const files = (await readdir(deployDir, { recursive: true })).filter((f) => f.endsWith("kustomization.yaml"));
  const dirs = await Promise.all(
    files.map(async (f) => {
      const dir = f === "kustomization.yaml" ? "" : f.slice(0, -"/kustomization.yaml".length);
      return { dir, kind: (await readYaml<{ kind?: string }>(`deploy/${f}`)).kind ?? "Kustomization" };
    }),
  );
  return dirs.sort((a, b) => a.dir.localeCompare(b.dir));
}

test("every kustomization and component under deploy/ renders, and deploy/README.md names it", async (t) => {
  const readme = await readFile(`${deployDir}README.md`, "utf8");
  const found = await kustomizations();
  t.deepEqual(
    found.map((k) => k.dir),
    [
      "",
      "base",
      "components/agent-nsenter",
      "components/extender-debug-views",
      "components/extender-fixed-ip",
      "components/extender-network-policy",
      "components/extender-tls",
      "components/managed-resources",
      "components/managed-resources-webhook",
      "components/open-local-csi-driver",
      "components/prometheus-operator",
      "components/second-scheduler",
      "components/webhook-certificate-files",
      "migrate-from-open-local",
      "overlays/prometheus-operator",
      "samples",
    ],
  );
  for (const { dir, kind } of found) {
    if (kind === "Component") await t.notThrowsAsync(kustomizeWithComponent(dir.slice("components/".length)), dir);
    else await t.notThrowsAsync(kustomize(dir), dir);
    if (dir !== "base") t.true(readme.includes(`deploy/${dir}`), `README names deploy/${dir}`);
  }
});

test("components/extender-fixed-ip pins the extender Service's address and changes nothing else", async (t) => {
  const pinned = await kustomizeWithComponent("extender-fixed-ip");
  const plain = await kustomize("");
  const service = (objects: KubeObject[]) =>
    find(objects, "Service", "nls-extender") as KubeObject & { spec: { clusterIP?: string } };
  t.is(service(pinned).spec.clusterIP, "10.96.0.23");
  t.is(service(plain).spec.clusterIP, undefined);
  const rest = (objects: KubeObject[]) =>
    objects.filter((o) => !(o.kind === "Service" && o.metadata.name === "nls-extender"));
  t.deepEqual(rest(pinned), rest(plain));
  await t.notThrowsAsync(validateBuiltIn(service(pinned)));
});

test("components/managed-resources marks pods with claims, and its scheduler configuration manages that resource", async (t) => {
  const objects = await kustomizeWithComponent("managed-resources");
  const base = await kustomize("base");
  const added = objects.filter((o) => !base.some((b) => b.kind === o.kind && b.metadata.name === o.metadata.name));
  t.deepEqual(
    added.map((o) => `${o.kind}/${o.metadata.name}`),
    ["MutatingAdmissionPolicy/nls-local-storage-request", "MutatingAdmissionPolicyBinding/nls-local-storage-request"],
  );
  const policy = added[0] as KubeObject & {
    spec: { failurePolicy: string; matchConditions: Array<{ expression: string }>; mutations: unknown[] };
  };
  t.is(policy.spec.failurePolicy, "Fail");
  t.regex(policy.spec.matchConditions[0]!.expression, /persistentVolumeClaim\) \|\| has\(v\.ephemeral\)/);
  const plain = await readYaml<{ extenders: Array<Record<string, unknown>> }>(
    "deploy/scheduler/kube-scheduler-config-every-pod.yaml",
  );
  const managed = await readYaml<{ extenders: Array<Record<string, unknown>> }>(
    "deploy/scheduler/kube-scheduler-config.yaml",
  );
  const { managedResources, ...rest } = managed.extenders[0]!;
  t.deepEqual(rest, plain.extenders[0], "the same extender entry otherwise");
  t.deepEqual(managedResources, [{ name: "nls.csi.aliyun.com/local-storage", ignoredByScheduler: true }]);
});

test("components/managed-resources-webhook: the extender's webhook port, its Service, its certificate's Secret and the webhook, for exactly the MAP's pods outside kube-system", async (t) => {
  const objects = await kustomizeWithComponent("managed-resources-webhook");
  const base = await kustomize("base");
  const added = objects.filter((o) => !base.some((b) => b.kind === o.kind && b.metadata.name === o.metadata.name));
  t.deepEqual(added.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    "ClusterRole/nls-extender-webhook-ca-bundle",
    "ClusterRoleBinding/nls-extender-webhook-ca-bundle",
    "MutatingWebhookConfiguration/nls-local-storage-request",
    "Role/nls-extender-webhook-certificate",
    "RoleBinding/nls-extender-webhook-certificate",
    "Secret/nls-extender-webhook-tls",
    "Service/nls-extender-webhook",
    // What holds the patch right on the configuration to its caBundle.
    "ValidatingAdmissionPolicy/nls-extender-webhook-ca-bundle-only",
    "ValidatingAdmissionPolicyBinding/nls-extender-webhook-ca-bundle-only",
  ]);
  // Shipped without data: the extender fills it (re-applying leaves its data alone).
  t.is((find(objects, "Secret", "nls-extender-webhook-tls") as KubeObject & { data?: unknown }).data, undefined);
  // Its rights: that Secret and that configuration, by name, read and replace/patch only.
  const rules = (kind: string, name: string) =>
    (find(objects, kind, name) as KubeObject & { rules: Array<Record<string, string[]>> }).rules;
  t.deepEqual(rules("Role", "nls-extender-webhook-certificate"), [
    { apiGroups: [""], resources: ["secrets"], resourceNames: ["nls-extender-webhook-tls"], verbs: ["get", "update"] },
  ]);
  t.deepEqual(rules("ClusterRole", "nls-extender-webhook-ca-bundle"), [
    {
      apiGroups: ["admissionregistration.k8s.io"],
      resources: ["mutatingwebhookconfigurations"],
      resourceNames: ["nls-local-storage-request"],
      verbs: ["get", "patch"],
    },
  ]);
  for (const obj of added) await t.notThrowsAsync(validateBuiltIn(obj), obj.kind);
  const config = find(objects, "MutatingWebhookConfiguration", "nls-local-storage-request") as KubeObject & {
    webhooks: Array<{
      failurePolicy: string;
      sideEffects: string;
      matchConditions: unknown[];
      namespaceSelector: unknown;
      objectSelector: unknown;
      rules: Array<{ operations: string[]; resources: string[] }>;
      clientConfig: { service: { namespace: string; name: string; path: string; port: number } };
    }>;
  };
  const [webhook, ...others] = config.webhooks;
  t.deepEqual(others, []);
  t.is(webhook!.failurePolicy, "Fail");
  t.is(webhook!.sideEffects, "None");
  t.deepEqual(
    webhook!.rules.map((r) => [r.operations, r.resources]),
    [[["CREATE"], ["pods"]]],
  );
  // The same pods reach it as the MutatingAdmissionPolicy marks.
  const policy = find(
    await kustomizeWithComponent("managed-resources"),
    "MutatingAdmissionPolicy",
    "nls-local-storage-request",
  ) as KubeObject & { spec: { matchConditions: unknown[] } };
  t.deepEqual(webhook!.matchConditions, policy.spec.matchConditions);
  // It calls the Service, whose port leads to the container's webhook port, which the extender serves.
  const service = find(objects, "Service", "nls-extender-webhook") as KubeObject & {
    spec: {
      publishNotReadyAddresses: boolean;
      selector: Record<string, string>;
      ports: Array<{ port: number; targetPort: string }>;
    };
  };
  t.like(webhook!.clientConfig.service, {
    namespace: service.metadata.namespace,
    name: service.metadata.name,
    path: "/admission/local-storage",
    port: service.spec.ports[0]!.port,
  });
  t.true(service.spec.publishNotReadyAddresses, "standbys serve the webhook too");
  const deploy = new Deployment(find(objects, "Deployment", "nls-extender") as never);
  t.like(deploy.spec!.template.metadata!.labels, service.spec.selector);
  const c = deploy.spec!.template.spec!.containers[0]!;
  const port = c.ports!.find((p) => p.name === service.spec.ports[0]!.targetPort);
  t.is(port?.containerPort, 23443);
  t.deepEqual(
    c.args?.filter((a) => a.startsWith("--webhook-")),
    ["--webhook-port=23443"],
    "the certificate's defaults: --webhook-certificate=secret, the Secret, configuration and Service above",
  );
  // Never asked about kube-system's pods or the extender's own.
  t.deepEqual(config.webhooks[0]!.namespaceSelector, {
    matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] }],
  });
  t.deepEqual(config.webhooks[0]!.objectSelector, {
    matchExpressions: [{ key: "app.kubernetes.io/name", operator: "NotIn", values: ["nls-extender"] }],
  });
  t.is(
    deploy.spec!.template.metadata!.labels?.["app.kubernetes.io/name"],
    "nls-extender",
    "which the objectSelector leaves out",
  );
  // What it reads, the base already lets the extender list and watch.
  const role = find(base, "ClusterRole", "nls-extender") as KubeObject & {
    rules: Array<{ resources: string[]; verbs: string[] }>;
  };
  for (const resource of ["persistentvolumeclaims", "persistentvolumes", "storageclasses"]) {
    t.true(
      role.rules.some((r) => r.resources.includes(resource) && r.verbs.includes("watch")),
      `watches ${resource}`,
    );
  }
});

test("components/webhook-certificate-files: the certificate from the operator's Secret, and no rights to write it or the caBundle", async (t) => {
  const objects = await kustomizeWithComponent("webhook-certificate-files");
  const keeping = await kustomize("");
  const names = (list: KubeObject[]) => list.map((o) => `${o.kind}/${o.metadata.name}`);
  t.deepEqual(
    names(keeping)
      .filter((n) => !names(objects).includes(n))
      .sort(),
    [
      "ClusterRole/nls-extender-webhook-ca-bundle",
      "ClusterRoleBinding/nls-extender-webhook-ca-bundle",
      "Role/nls-extender-webhook-certificate",
      "RoleBinding/nls-extender-webhook-certificate",
    ],
  );
  const deploy = new Deployment(find(objects, "Deployment", "nls-extender") as never);
  const c = deploy.spec!.template.spec!.containers[0]!;
  t.deepEqual(
    c.args?.filter((a) => a.startsWith("--webhook-")),
    [
      "--webhook-port=23443",
      "--webhook-certificate=files",
      "--webhook-tls-cert-file=/etc/nls/webhook-tls/tls.crt",
      "--webhook-tls-private-key-file=/etc/nls/webhook-tls/tls.key",
    ],
  );
  t.deepEqual(
    deploy.spec!.template.spec!.volumes?.find((v) => v.name === "webhook-tls"),
    { name: "webhook-tls", secret: { secretName: "nls-extender-webhook-tls" } },
  );
  t.like(
    c.volumeMounts?.find((m) => m.name === "webhook-tls"),
    { mountPath: "/etc/nls/webhook-tls", readOnly: true },
  );
});

test("components/agent-nsenter switches the agent to the host's tools and mount table", async (t) => {
  const objects = await kustomizeWithComponent("agent-nsenter");
  const spec = (find(objects, "DaemonSet", "nls-agent") as unknown as { spec: { template: { spec: IPodSpec } } }).spec
    .template.spec;
  t.true(spec.hostPID);
  const args = only(spec).args ?? [];
  t.true(args.includes("--command-prefix=nsenter --mount=/proc/1/ns/mnt --"));
  t.true(args.includes("--mountinfo=/proc/1/mountinfo"));
  for (const obj of objects.filter((o) => !isCustom(o))) await t.notThrowsAsync(validateBuiltIn(obj), obj.kind);
});

test("components/second-scheduler runs kube-scheduler as nls-scheduler with the every-pod extender entry and least privilege", async (t) => {
  const objects = await kustomizeWithComponent("second-scheduler");
  for (const obj of objects.filter((o) => !isCustom(o))) await t.notThrowsAsync(validateBuiltIn(obj), obj.kind);
  const cm = find(objects, "ConfigMap", "nls-scheduler-config") as KubeObject & { data: Record<string, string> };
  const config = parse(cm.data["config.yaml"]!) as {
    profiles: Array<{ schedulerName: string; pluginConfig?: unknown }>;
    extenders: unknown[];
    leaderElection: { leaderElect: boolean; resourceNamespace: string; resourceName: string };
    clientConnection?: unknown;
  };
  // Every pod it is given goes through the extender (only pods with local volumes choose it), marked
  // or not: deploy/base without the marking, or a pod the webhook leaves alone, is never placed
  // around the capacity check; a marked pod still fits (NodeResourcesFit ignores the resource).
  const everyPod = await readYaml<{ extenders: unknown[]; profiles: Array<{ pluginConfig: unknown }> }>(
    "deploy/scheduler/kube-scheduler-config-every-pod.yaml",
  );
  t.deepEqual(config.extenders, everyPod.extenders);
  t.deepEqual(config.profiles, [{ schedulerName: "nls-scheduler", pluginConfig: everyPod.profiles[0]!.pluginConfig }]);
  t.is(config.clientConnection, undefined, "in-cluster credentials");
  t.deepEqual(config.leaderElection, {
    leaderElect: true,
    resourceNamespace: "kube-system",
    resourceName: "nls-scheduler",
  });

  const deploy = new Deployment(find(objects, "Deployment", "nls-scheduler") as never);
  const spec = deploy.spec!.template.spec!;
  const c = only(spec);
  t.is(spec.serviceAccountName, "nls-scheduler");
  const mount = c.volumeMounts?.find((m) => m.name === "config");
  t.is(spec.volumes?.find((v) => v.name === "config")?.configMap?.name, cm.metadata.name);
  t.true(c.command?.includes(`--config=${mount?.mountPath}/config.yaml`));
  t.like(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true });
  t.regex(c.image ?? "", /^registry\.k8s\.io\/kube-scheduler:v1\.\d+\.\d+$/);

  // The leader-election Lease is the only thing it may update beyond kube-scheduler's own roles.
  const role = find(objects, "Role", "nls-scheduler-leader-election") as KubeObject & {
    rules: Array<{ resources: string[]; verbs: string[]; resourceNames?: string[] }>;
  };
  t.deepEqual(role.rules.find((r) => r.verbs.includes("update"))?.resourceNames, [config.leaderElection.resourceName]);
  const bound = objects
    .filter((o) => o.kind.endsWith("Binding") && o.metadata.name.startsWith("nls-scheduler"))
    .map((o) => (o as unknown as { roleRef: { name: string } }).roleRef.name)
    .sort();
  t.deepEqual(bound, [
    "extension-apiserver-authentication-reader",
    "nls-scheduler-leader-election",
    "system:kube-scheduler",
    "system:volume-scheduler",
  ]);
});

test("components/open-local-csi-driver keeps open-local's CSI driver from its chart's manifests and drops what nls replaces", async (t) => {
  const crd = (name: string) => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name },
    spec: {
      group: name.split(".").slice(1).join("."),
      names: { kind: "X", plural: name.split(".")[0] },
      scope: "Cluster",
      versions: [],
    },
  });
  // What `helm template open-local <chart> --include-crds` gives, as far as the component cares.
  const rendered = [
    ...openLocalInstall,
    { apiVersion: "storage.k8s.io/v1", kind: "CSIDriver", metadata: { name: "local.csi.aliyun.com" }, spec: {} },
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "open-local-lvm" },
      provisioner: "local.csi.aliyun.com",
    },
    {
      apiVersion: "csi.aliyun.com/v1alpha1",
      kind: "NodeLocalStorageInitConfig",
      metadata: { name: "open-local" },
      spec: {},
    },
    crd("nodelocalstorages.csi.aliyun.com"),
    crd("nodelocalstorageinitconfigs.csi.aliyun.com"),
    crd("volumesnapshots.snapshot.storage.k8s.io"),
  ];
  const objects = await kustomizeOver(rendered, "open-local-csi-driver");
  t.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    "CSIDriver/local.csi.aliyun.com",
    "CustomResourceDefinition/volumesnapshots.snapshot.storage.k8s.io",
    "DaemonSet/open-local-agent",
    "Deployment/open-local-controller",
    "ServiceAccount/open-local",
    "StorageClass/open-local-lvm",
  ]);
  const agent = find(objects, "DaemonSet", "open-local-agent") as unknown as { spec: { template: { spec: IPodSpec } } };
  t.deepEqual(
    agent.spec.template.spec.containers.map((c) => c.name),
    ["driver-registrar", "csi-plugin"],
  );
  t.deepEqual(
    find(objects, "Deployment", "open-local-controller"),
    find(rendered as KubeObject[], "Deployment", "open-local-controller"),
  );
});
