/**
 * docs/migrate-from-open-local.md, run against a real API server holding an open-local v0.8.0
 * install's objects (open-local-install.ts): each step's command, as the guide prints it, then the
 * rollback. No node runs, so this proves the objects and flags each step leaves, not pod behaviour.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { seedInitConfig, openLocalWrittenNls } from "../crds/samples.js";
import { gatedSerial } from "../gate.js";
import { e2eGate, installCrds, run, startCluster, type Cluster } from "./cluster.js";
import { openLocalInstall } from "./open-local-install.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# migration e2e skipped: ${gate.why}`);

const ctx = {} as { cluster: Cluster; guide: string };

/** A command of the guide, run from the repository root with the test cluster's kubeconfig. */
async function step(command: string): Promise<string> {
  const r = await run("bash", ["-c", `cd '${root}' && ${command}`], { KUBECONFIG: ctx.cluster.kubeconfig });
  if (r.exitCode !== 0) throw new Error(`${command}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** The guide prints this command (a `\` line break counts as a space). */
const inGuide = (command: string) => ctx.guide.replace(/ \\\n\s+/g, " ").includes(command);

const applyList = (items: object[]) =>
  ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items }));

interface Workload {
  spec: { template: { spec: { containers: Array<{ name: string; args?: string[] }>; volumes?: unknown[] } } };
}
const get = async <T>(...args: string[]) =>
  JSON.parse(await ctx.cluster.kubectlOk(["get", "-n", "kube-system", ...args, "-o", "json"])) as T;
const containers = async (workload: string) =>
  (await get<Workload>(workload)).spec.template.spec.containers.map((c) => c.name);
const argsOf = async (workload: string, container: string) =>
  (await get<Workload>(workload)).spec.template.spec.containers.find((c) => c.name === container)?.args ?? [];
const exists = async (...args: string[]) =>
  (await ctx.cluster.kubectl(["get", "-n", "kube-system", ...args])).exitCode === 0;

test.before(async () => {
  if (!gate.run) return;
  ctx.guide = await readFile(join(root, "docs/migrate-from-open-local.md"), "utf8");
  ctx.cluster = await startCluster();
  // The rollback deletes deploy/'s namespace nls-node-lease: only the namespace controller finalises
  // that, and `kubectl delete` waits for it.
  await ctx.cluster.startControllerManager("namespace");
  // open-local's install: its CRDs and objects, its init config and a NodeLocalStorage its agent wrote.
  await installCrds(ctx.cluster, join(root, "crds"));
  await applyList(openLocalInstall);
  await applyList([seedInitConfig, { ...openLocalWrittenNls, status: undefined }]);
});

test.after.always(async () => {
  await ctx.cluster?.stop();
});

test("the switch keeps open-local's CSI driver and hands its agent, extender and init job to nls", async (t) => {
  const nlsBefore = await get<{ spec: unknown }>("nls", openLocalWrittenNls.metadata.name);

  const commands = [
    "kubectl -n kube-system delete job open-local-init-job --ignore-not-found",
    "kubectl -n kube-system patch daemonset open-local-agent --type=strategic --patch-file deploy/components/open-local-csi-driver/open-local-agent-off.yaml",
    "kubectl -n kube-system delete deployment,service open-local-scheduler-extender",
    "kubectl apply -k deploy/migrate-from-open-local/",
  ];
  for (const command of commands) {
    t.true(inGuide(command), `the guide prints: ${command}`);
    await step(command);
  }
  t.false(await exists("job", "open-local-init-job"));
  // The node plugin stays, with its volumes; only the agent container is gone.
  t.deepEqual(await containers("daemonset/open-local-agent"), ["driver-registrar", "csi-plugin"]);
  t.is((await get<Workload>("daemonset/open-local-agent")).spec.template.spec.volumes?.length, 1);
  t.false(await exists("deployment", "open-local-scheduler-extender"));
  // The controller is untouched.
  t.deepEqual(await containers("deployment/open-local-controller"), [
    "csi-provisioner",
    "csi-resizer",
    "csi-snapshotter",
    "csi-plugin",
    "controller",
    "snapshot-controller",
  ]);
  // nls serves the name open-local's driver and the init job's scheduler configuration call.
  const alias = await get<{
    metadata: { labels: Record<string, string> };
    spec: { selector: unknown; ports: Array<{ port: number }> };
  }>("service", "open-local-scheduler-extender");
  // No selector: the leader's EndpointSlice of that name routes it (a selector left over from
  // open-local's Service would split the calls between both extenders).
  t.is(alias.spec.selector, undefined);
  t.is(alias.spec.ports[0]!.port, 23000);
  const slice = await get<{ metadata: { labels: Record<string, string> } }>(
    "endpointslice",
    "open-local-scheduler-extender",
  );
  t.is(slice.metadata.labels["kubernetes.io/service-name"], "open-local-scheduler-extender");
  t.is(alias.metadata.labels["app.kubernetes.io/part-of"], "nls");
  t.true((await argsOf("deployment/nls-extender", "extender")).includes("--agent-lease=optional"));
  t.true(await exists("daemonset", "nls-agent"));

  // Once every agent holds its Lease: deploy/ itself, which requires them again.
  t.true(inGuide("kubectl apply -k deploy/"));
  await step("kubectl apply -k deploy/");
  t.false((await argsOf("deployment/nls-extender", "extender")).includes("--agent-lease=optional"));

  // The objects open-local's agent and the operator wrote are kept.
  t.deepEqual((await get<{ spec: unknown }>("nls", openLocalWrittenNls.metadata.name)).spec, nlsBefore.spec);
  t.true(await exists("nlsc", seedInitConfig.metadata!.name!));
});

test("the driver learns nls-scheduler once: the script adds the flag, a second run changes nothing", async (t) => {
  const command =
    "deploy/migrate-from-open-local/extender-scheduler-names.sh default-scheduler,nls-scheduler deployment/open-local-controller kube-system";
  t.true(inGuide(command));
  const before = await argsOf("deployment/open-local-controller", "csi-plugin");
  await step(command);
  const after = await argsOf("deployment/open-local-controller", "csi-plugin");
  t.deepEqual(after, [...before, "--extender-scheduler-names=default-scheduler,nls-scheduler"]);
  t.regex(await step(command), /already has/);
  t.deepEqual(await argsOf("deployment/open-local-controller", "csi-plugin"), after);
  // Another list replaces the flag in place.
  await step(`${command.replace("default-scheduler,nls-scheduler", "nls-scheduler")}`);
  t.deepEqual(await argsOf("deployment/open-local-controller", "csi-plugin"), [
    ...before,
    "--extender-scheduler-names=nls-scheduler",
  ]);
  // Other containers are left alone.
  t.false(
    (await argsOf("deployment/open-local-controller", "csi-provisioner")).some((a) => a.includes("scheduler-names")),
  );
});

test("rolling back removes nls' objects and restores open-local's, keeping the CRDs and NodeLocalStorages", async (t) => {
  const command = "kubectl delete -k deploy/ -l app.kubernetes.io/part-of=nls";
  t.true(inGuide(command));
  await step(command);
  for (const [kind, name] of [
    ["daemonset", "nls-agent"],
    ["deployment", "nls-extender"],
    ["service", "nls-extender"],
    ["service", "open-local-scheduler-extender"],
  ]) {
    t.false(await exists(kind!, name!), `${kind}/${name} removed`);
  }
  // What `helm upgrade` with the saved values does to these objects: apply the chart's objects again.
  await applyList(openLocalInstall);
  t.deepEqual(await containers("daemonset/open-local-agent"), ["agent", "driver-registrar", "csi-plugin"]);
  const svc = await get<{ spec: { selector: Record<string, string> } }>("service", "open-local-scheduler-extender");
  t.is(svc.spec.selector["app.kubernetes.io/component"], "open-local-scheduler-extender");
  t.true(await exists("nls", openLocalWrittenNls.metadata.name));
  t.true(await exists("crd", "nodelocalstorages.csi.aliyun.com"));
});
