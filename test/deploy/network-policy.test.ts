/**
 * components/extender-network-policy, evaluated by a NetworkPolicy engine that is not ours: cyclonus'
 * matcher (netpol-bin/, built by build-netpol.sh). No network plugin runs in the tests, so this proves
 * what the policy means — which callers a plugin that enforces NetworkPolicies admits to which port of
 * the extender's pods — not that a plugin enforces it.
 */
import { openLocalController } from "../e2e/open-local-install.js";
import { find, kustomizeOverlay, kustomizeWithComponent, type KubeObject } from "./render.js";
import { netpolVerdicts, type TrafficCase, type TrafficPeer } from "./netpol-verdict.js";
import { hasKubectl, hasTool, testWithTool } from "./tools.js";

const test = testWithTool(hasKubectl && hasTool("netpol-verdict", ["--version"]));

const CONTROL_PLANE_CIDR = "10.0.0.0/24";
const namespaceLabels = (name: string) => ({ "kubernetes.io/metadata.name": name });
const pod = (namespace: string, podLabels: Record<string, string>, ip: string): TrafficPeer => ({
  ip,
  namespace,
  namespaceLabels: namespaceLabels(namespace),
  podLabels,
});
const host = (ip: string): TrafficPeer => ({ ip });

const templateLabels = (o: KubeObject) =>
  (o as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata
    .labels;

async function withCidr(): Promise<KubeObject[]> {
  return kustomizeOverlay({
    resources: [""],
    components: ["components/extender-network-policy"],
    patches: [
      {
        target: { kind: "NetworkPolicy", name: "nls-extender" },
        patch: JSON.stringify([
          { op: "replace", path: "/spec/ingress/0/from/0/ipBlock/cidr", value: CONTROL_PLANE_CIDR },
        ]),
      },
    ],
  });
}

const policies = (objects: KubeObject[]) => objects.filter((o) => o.kind === "NetworkPolicy");

/** Who reaches which port of the extender's pod, as deploy/README.md's threat model says. */
function extenderCases(objects: KubeObject[]): Array<TrafficCase & { allowed: boolean }> {
  const extender = pod("kube-system", templateLabels(find(objects, "Deployment", "nls-extender")), "10.244.1.10");
  const to = (port: number) => ({ destination: extender, port });
  const scheduler = host("10.0.0.11");
  const outsideHost = host("10.0.1.5");
  // open-local's CSI controller as its Helm chart labels it (the migration's stand-in of that install).
  const csiController = pod("kube-system", templateLabels(openLocalController as unknown as KubeObject), "10.244.2.7");
  const impostor = pod("team-a", templateLabels(openLocalController as unknown as KubeObject), "10.244.3.4");
  const prometheus = pod("monitoring", { "app.kubernetes.io/name": "prometheus" }, "10.244.4.2");
  const tenant = pod("default", { app: "web" }, "10.244.5.9");
  const agent = pod("kube-system", templateLabels(find(objects, "DaemonSet", "nls-agent")), "10.244.1.11");
  return [
    { name: "kube-scheduler (control-plane host) → 23000", source: scheduler, ...to(23000), allowed: true },
    { name: "API server's proxy (control-plane host) → debug 23001", source: scheduler, ...to(23001), allowed: true },
    { name: "API server (control-plane host) → webhook 23443", source: scheduler, ...to(23443), allowed: true },
    { name: "a host outside the CIDR → 23000", source: outsideHost, ...to(23000), allowed: false },
    { name: "a host outside the CIDR → webhook 23443", source: outsideHost, ...to(23443), allowed: false },
    { name: "CSI controller → 23000", source: csiController, ...to(23000), allowed: true },
    { name: "CSI controller → reserve-only 23002", source: csiController, ...to(23002), allowed: true },
    { name: "CSI controller → debug 23001", source: csiController, ...to(23001), allowed: false },
    { name: "CSI controller → webhook 23443", source: csiController, ...to(23443), allowed: false },
    { name: "a tenant's pod labelled as the CSI controller → 23000", source: impostor, ...to(23000), allowed: false },
    { name: "a tenant's pod labelled as the CSI controller → 23002", source: impostor, ...to(23002), allowed: false },
    { name: "Prometheus (namespace monitoring) → 23000", source: prometheus, ...to(23000), allowed: true },
    { name: "Prometheus → 23002", source: prometheus, ...to(23002), allowed: false },
    { name: "Prometheus → debug 23001", source: prometheus, ...to(23001), allowed: false },
    { name: "any pod → 23000", source: tenant, ...to(23000), allowed: false },
    { name: "any pod → 23002", source: tenant, ...to(23002), allowed: false },
    { name: "any pod → debug 23001", source: tenant, ...to(23001), allowed: false },
    { name: "any pod → webhook 23443", source: tenant, ...to(23443), allowed: false },
    { name: "nls's own agent → 23000", source: agent, ...to(23000), allowed: false },
    // The policy selects the extender's pods only: the agent's port is left as it was.
    {
      name: "any pod → the agent's metrics (not selected)",
      source: tenant,
      destination: agent,
      port: 9100,
      allowed: true,
    },
  ];
}

test("the NetworkPolicy admits kube-scheduler's CIDR, open-local's CSI controller and Prometheus to their ports, nobody else", async (t) => {
  const objects = await withCidr();
  const cases = extenderCases(objects);
  const verdicts = await netpolVerdicts(policies(objects), cases);
  t.is(verdicts.length, cases.length);
  for (const [i, c] of cases.entries()) t.is(verdicts[i]!.allowed, c.allowed, c.name);
});

test("shipped with its placeholder CIDR, the policy refuses kube-scheduler (the knob must be set)", async (t) => {
  const objects = await kustomizeWithComponent("extender-network-policy");
  const extender = pod("kube-system", templateLabels(find(objects, "Deployment", "nls-extender")), "10.244.1.10");
  const [verdict] = await netpolVerdicts(policies(objects), [
    { name: "kube-scheduler → 23000", source: host("10.0.0.11"), destination: extender, port: 23000 },
  ]);
  t.false(verdict!.allowed);
});

test("the default install ships no NetworkPolicy (the component is opt-in: it needs the CIDR)", async (t) => {
  t.deepEqual(policies(await kustomizeOverlay({ resources: [""] })), []);
});
