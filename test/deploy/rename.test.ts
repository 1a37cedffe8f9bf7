/**
 * A kustomize namePrefix/nameSuffix renames the extender's Services and EndpointSlices; deploy/base's
 * `configurations` (name-references.yaml) carry the new names into --leader-endpoint-slices, the Role's
 * resourceNames, the slices' `kubernetes.io/service-name` label and the leader-election Lease. Offline,
 * with the kubectl on this machine; test/deploy/apiserver.test.ts runs the renamed extender for real.
 */
import { extenderCommand, flagValue, leaderLease, leaderRouted } from "./leader-routing.js";
import { find, kustomize, kustomizeOverlay, renamedOverlay, type KubeObject } from "./render.js";
import { hasKubectl, testWithTool } from "./tools.js";

const test = testWithTool(hasKubectl);

const SERVICES = ["nls-extender", "open-local-scheduler-extender"];

const overlays: Array<[string, Parameters<typeof kustomizeOverlay>[0], (name: string) => string]> = [
  ["namePrefix acme-", renamedOverlay, (n) => `acme-${n}`],
  ["nameSuffix -blue", { resources: [""], nameSuffix: "-blue" }, (n) => `${n}-blue`],
  ["namePrefix and nameSuffix", { resources: [""], namePrefix: "a-", nameSuffix: "-b" }, (n) => `a-${n}-b`],
  [
    "namePrefix acme- with components that add slice ports",
    {
      resources: ["base"],
      components: ["components/extender-tls", "components/extender-debug-views"],
      namePrefix: "acme-",
    },
    (n) => `acme-${n}`,
  ],
];

for (const [what, overlay, rename] of overlays) {
  test(`${what}: the leader's flags, Role and slices follow the renamed Services`, async (t) => {
    const objects = await kustomizeOverlay(overlay);
    const names = leaderRouted(t, objects);
    t.deepEqual(names, SERVICES.map(rename), "--leader-endpoint-slices names the renamed slices");
    for (const name of names) {
      t.is(find(objects, "Service", name).metadata.name, name);
      t.is(find(objects, "EndpointSlice", name).metadata.labels?.["kubernetes.io/service-name"], name);
    }
    t.is(leaderLease(t, objects), rename("nls-extender"));
  });
}

test("deploy/ as shipped: the leader writes nls-extender and open-local-scheduler-extender, elects on nls-extender", async (t) => {
  const objects = await kustomize();
  t.deepEqual(leaderRouted(t, objects), SERVICES);
  t.is(leaderLease(t, objects), "nls-extender");
});

test("the names a rename must reach are given to the extender as plain values, not inside a flag", async (t) => {
  // kustomize renames a field only when it holds exactly the old name: a name inside
  // `--leader-endpoint-slices=a,b` or after `--leader-elect-resource-name=` would stay behind.
  const deployment = (await kustomize()).find((o) => o.kind === "Deployment" && o.metadata.name === "nls-extender");
  const container = (
    deployment as KubeObject & { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }
  ).spec.template.spec.containers[0]!;
  for (const arg of container.args) {
    for (const name of SERVICES) t.false(arg.includes(name), `${arg} names ${name}`);
  }
  t.is(
    flagValue(extenderCommand(await kustomize()).args, "leader-endpoint-slices"),
    SERVICES.join(","),
    "as the kubelet expands it",
  );
});

test("namePrefix acme-: the extender's webhook flags, its certificate's rights and the webhook's Service follow the renamed objects", async (t) => {
  const objects = await kustomizeOverlay(renamedOverlay);
  const { args, env: vars } = extenderCommand(objects);
  t.is(flagValue(args, "webhook-port"), "23443");
  t.is(vars.NLS_WEBHOOK_SECRET, "acme-nls-extender-webhook-tls");
  t.is(vars.NLS_WEBHOOK_CONFIGURATION, "acme-nls-local-storage-request");
  t.is(vars.NLS_WEBHOOK_SERVICE, "acme-nls-extender-webhook");
  find(objects, "Secret", "acme-nls-extender-webhook-tls");
  const config = find(objects, "MutatingWebhookConfiguration", "acme-nls-local-storage-request") as KubeObject & {
    webhooks: Array<{ clientConfig: { service: { name: string } } }>;
  };
  t.is(config.webhooks[0]!.clientConfig.service.name, "acme-nls-extender-webhook");
  const names = (kind: string, name: string) =>
    (find(objects, kind, name) as KubeObject & { rules: Array<{ resourceNames: string[] }> }).rules[0]!.resourceNames;
  t.deepEqual(names("Role", "acme-nls-extender-webhook-certificate"), ["acme-nls-extender-webhook-tls"]);
  t.deepEqual(names("ClusterRole", "acme-nls-extender-webhook-ca-bundle"), ["acme-nls-local-storage-request"]);
});
