import type { IContainer, IPodSpec } from "kubernetes-models/v1";
import { find, kustomizeOverlay, kustomizeWithComponent, readYaml, type KubeObject } from "./render.js";
import { leaderRouted } from "./leader-routing.js";
import { hasKubectl, testWithTool } from "./tools.js";

const test = testWithTool(hasKubectl);

const podSpec = (objects: KubeObject[]) =>
  (find(objects, "Deployment", "nls-extender") as unknown as { spec: { template: { spec: IPodSpec } } }).spec.template
    .spec;

test("components/extender-tls: HTTPS from the Secret, client certificates and tokens, RBAC decides, a reserve-only port", async (t) => {
  const objects = await kustomizeWithComponent("extender-tls");
  const spec = podSpec(objects);
  const c = spec.containers[0] as IContainer;
  for (const arg of [
    "--tls-cert-file=/etc/nls/tls/tls.crt",
    "--tls-private-key-file=/etc/nls/tls/tls.key",
    "--client-ca-file=/etc/nls/tls/ca.crt",
    "--authentication-token-webhook=true",
    "--authorization-mode=Webhook",
    "--reserve-port=23002",
  ]) {
    t.true(c.args?.includes(arg), arg);
  }
  t.deepEqual(
    spec.volumes?.find((v) => v.name === "tls"),
    { name: "tls", secret: { secretName: "nls-extender-tls" } },
  );
  t.like(
    c.volumeMounts?.find((m) => m.name === "tls"),
    { mountPath: "/etc/nls/tls", readOnly: true },
  );
  t.is(c.livenessProbe?.httpGet?.scheme, "HTTPS");
  t.is(c.readinessProbe?.httpGet?.scheme, "HTTPS");
  t.like(
    c.ports?.find((p) => p.name === "reserve"),
    { containerPort: 23002 },
  );
  const service = find(objects, "Service", "nls-extender") as unknown as {
    spec: { ports: Array<{ name: string; port: number }> };
  };
  t.like(
    service.spec.ports.find((p) => p.name === "reserve"),
    { port: 23002 },
  );
  // Selector-less Services: the leader's slices carry the ports, by name.
  leaderRouted(t, objects);
  // The extender may review tokens and access; kube-scheduler (its client certificate's name) may
  // schedule; nobody is bound to reserve on the authenticated port.
  t.like(find(objects, "ClusterRoleBinding", "nls-extender-auth-delegator"), {
    roleRef: { kind: "ClusterRole", name: "system:auth-delegator" },
    subjects: [{ kind: "ServiceAccount", name: "nls-extender", namespace: "kube-system" }],
  });
  t.like(find(objects, "ClusterRole", "nls-extender-scheduler"), {
    rules: [{ apiGroups: ["nls.csi.aliyun.com"], resources: ["extenders"], verbs: ["schedule"] }],
  });
  t.like(find(objects, "ClusterRoleBinding", "nls-extender-scheduler"), {
    roleRef: { name: "nls-extender-scheduler" },
    subjects: [{ kind: "User", name: "system:kube-scheduler" }],
  });
  t.like(find(objects, "ClusterRole", "nls-extender-reserver"), {
    rules: [{ apiGroups: ["nls.csi.aliyun.com"], resources: ["extenders"], verbs: ["reserve"] }],
  });
  t.false(
    objects.some(
      (o) =>
        o.kind === "ClusterRoleBinding" &&
        (o as unknown as { roleRef: { name: string } }).roleRef.name === "nls-extender-reserver",
    ),
  );
  // The name open-local's driver calls leads to the reserve-only port.
  const alias = find(objects, "Service", "open-local-scheduler-extender") as unknown as {
    spec: { ports: Array<{ name: string; port: number }> };
  };
  t.like(alias.spec.ports[0], { name: "http", port: 23000 });
  const aliasSlice = find(objects, "EndpointSlice", "open-local-scheduler-extender") as unknown as {
    ports: Array<{ name: string; port: number }>;
  };
  t.deepEqual(aliasSlice.ports, [{ name: "http", port: 23002, protocol: "TCP" }]);
});

test("deploy/scheduler/kube-scheduler-config-tls.yaml is the plain configuration plus HTTPS and a client certificate", async (t) => {
  type Config = { extenders: Array<Record<string, unknown>>; [k: string]: unknown };
  const plain = await readYaml<Config>("deploy/scheduler/kube-scheduler-config.yaml");
  const tls = await readYaml<Config>("deploy/scheduler/kube-scheduler-config-tls.yaml");
  const { urlPrefix, enableHTTPS, tlsConfig, ...rest } = tls.extenders[0]!;
  const { urlPrefix: plainUrl, ...plainRest } = plain.extenders[0]!;
  t.deepEqual(rest, plainRest);
  t.is(urlPrefix, String(plainUrl).replace(/^http:/, "https:"));
  t.true(enableHTTPS);
  t.deepEqual(Object.keys(tlsConfig as object).sort(), ["caFile", "certFile", "keyFile", "serverName"]);
  t.is((tlsConfig as { serverName: string }).serverName, new URL(String(urlPrefix)).hostname);
  t.deepEqual({ ...tls, extenders: [] }, { ...plain, extenders: [] });
});

test("deploy/scheduler/kube-scheduler-config-every-pod(-tls).yaml are the configurations without the managed resource, whose pods the resource-fit filter ignores", async (t) => {
  type Config = { extenders: Array<Record<string, unknown>>; profiles?: unknown; [k: string]: unknown };
  const plain = await readYaml<Config>("deploy/scheduler/kube-scheduler-config-every-pod.yaml");
  const managed = await readYaml<Config>("deploy/scheduler/kube-scheduler-config.yaml");
  const { managedResources: m, ...managedRest } = managed.extenders[0]!;
  t.deepEqual(managedRest, plain.extenders[0]);
  t.deepEqual(m, [{ name: "nls.csi.aliyun.com/local-storage", ignoredByScheduler: true }]);
  // Without `ignoredByScheduler`, a pod still marked (none advertises the resource) fits no node unless
  // NodeResourcesFit ignores it (test/e2e/managed-resources.e2e.test.ts switches back with such pods).
  const profiles = [
    {
      schedulerName: "default-scheduler",
      pluginConfig: [{ name: "NodeResourcesFit", args: { ignoredResources: ["nls.csi.aliyun.com/local-storage"] } }],
    },
  ];
  t.is(managed.profiles, undefined);
  t.deepEqual({ ...managed, extenders: [], profiles }, { ...plain, extenders: [] });
  const tls = await readYaml<Config>("deploy/scheduler/kube-scheduler-config-every-pod-tls.yaml");
  const both = await readYaml<Config>("deploy/scheduler/kube-scheduler-config-tls.yaml");
  const { managedResources, ...rest } = both.extenders[0]!;
  t.deepEqual(rest, tls.extenders[0], "the TLS entry otherwise");
  t.deepEqual(managedResources, m, "the same managed resource");
  t.deepEqual({ ...both, extenders: [], profiles }, { ...tls, extenders: [] });
});

interface Rule {
  from: Array<{ ipBlock?: { cidr: string }; podSelector?: object; namespaceSelector?: object }>;
  ports: Array<{ port: number }>;
}

test("components/extender-network-policy admits kube-scheduler (a CIDR knob), the CSI controller and Prometheus only", async (t) => {
  const overlay = await kustomizeOverlay({
    resources: [""],
    components: ["components/extender-network-policy"],
    patches: [
      {
        target: { kind: "NetworkPolicy", name: "nls-extender" },
        patch: '[{"op": "replace", "path": "/spec/ingress/0/from/0/ipBlock/cidr", "value": "10.0.0.0/24"}]',
      },
    ],
  });
  const policy = find(overlay, "NetworkPolicy", "nls-extender") as unknown as {
    metadata: { namespace: string };
    spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Rule[] };
  };
  t.is(policy.metadata.namespace, "kube-system");
  // It selects exactly the extender's pods.
  const deployment = find(overlay, "Deployment", "nls-extender") as unknown as {
    spec: { template: { metadata: { labels: Record<string, string> } } };
  };
  for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) {
    t.is(deployment.spec.template.metadata.labels[k], v);
  }
  t.deepEqual(policy.spec.policyTypes, ["Ingress"]);
  const [scheduler, csi, prometheus, ...more] = policy.spec.ingress;
  t.deepEqual(more, []);
  t.deepEqual(scheduler!.from, [{ ipBlock: { cidr: "10.0.0.0/24" } }], "the overlay's CIDR replaced the placeholder");
  t.deepEqual(
    scheduler!.ports.map((p) => p.port),
    [23000, 23001, 23443],
  );
  t.deepEqual(csi!.from, [
    { podSelector: { matchLabels: { "app.kubernetes.io/component": "open-local-controller" } } },
  ]);
  t.deepEqual(
    csi!.ports.map((p) => p.port),
    [23000, 23002],
  );
  t.deepEqual(
    prometheus!.ports.map((p) => p.port),
    [23000],
  );
  // Unpatched, the placeholder matches nobody (documentation address space).
  const shipped = find(
    await kustomizeWithComponent("extender-network-policy"),
    "NetworkPolicy",
    "nls-extender",
  ) as unknown as {
    spec: { ingress: Rule[] };
  };
  t.is(shipped.spec.ingress[0]!.from[0]!.ipBlock!.cidr, "192.0.2.0/24");
});

test("components/extender-debug-views exposes /cache on the pod's address and as Service port 23001, with an unbound Role to read it", async (t) => {
  const objects = await kustomizeWithComponent("extender-debug-views");
  const c = podSpec(objects).containers[0] as IContainer;
  t.true(c.args?.includes("--debug-address=:23001"));
  t.like(
    c.ports?.find((p) => p.name === "debug"),
    { containerPort: 23001 },
  );
  const service = find(objects, "Service", "nls-extender") as unknown as {
    spec: { ports: Array<{ name: string; port: number; targetPort: string }> };
  };
  t.deepEqual(
    service.spec.ports.map((p) => p.name),
    ["http", "debug"],
  );
  leaderRouted(t, objects);
  // What kubectl nls reads the leader's /cache with (the Service, its slices, pods/proxy), bound to nobody.
  t.like(find(objects, "Role", "nls-extender-cache-reader"), {
    metadata: { namespace: "kube-system" },
    rules: [
      { apiGroups: [""], resources: ["services"], resourceNames: ["nls-extender"], verbs: ["get"] },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list"] },
      { apiGroups: [""], resources: ["pods/proxy"], verbs: ["get"] },
    ],
  });
  t.false(
    objects.some((o) => (o as { roleRef?: { name?: string } }).roleRef?.name === "nls-extender-cache-reader"),
    "bound to nobody",
  );
  // Without it, the debug views listen on the pod's loopback only (the extender's default).
  const plain = podSpec(await kustomizeWithComponent("extender-tls")).containers[0] as IContainer;
  t.false((plain.args ?? []).some((a) => a.startsWith("--debug-address")));
});
