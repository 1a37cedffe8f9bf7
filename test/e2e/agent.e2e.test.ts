/**
 * The built `nls-agent` binary against a real kube-apiserver, running as the `nls-agent` ServiceAccount
 * with exactly the RBAC and admission policy of deploy/, on real LVM (loop devices over sparse files).
 */
import { gatedSerial } from "../gate.js";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { e2eGate, run, startDeployedCluster, waitFor, type Cluster } from "./cluster.js";
import { agentScans, applyInitConfig, getNls, nlsWithVg } from "./agent-node.js";
import { startAgent, type AgentProcess } from "./daemons.js";
import { createLoopDevice, lvmUnavailable, removeVgsAndLoops } from "./lvm.js";

const NODE = "e2e-node-1";
const OTHER_NODE = "e2e-node-2";
const suffix = randomBytes(3).toString("hex");
const VG = `nlse2e-${suffix}`;

const gate = await e2eGate();
const lvmWhy = await lvmUnavailable();
if (lvmWhy && process.env.NLS_REQUIRE_REAL_TOOLS === "1") throw new Error(`agent e2e needs real LVM in CI: ${lvmWhy}`);
const enabled = gate.run && !lvmWhy;
if (!enabled) console.log(`# agent e2e skipped: ${gate.why ?? lvmWhy}`);

interface Ctx {
  cluster: Cluster;
  agent: AgentProcess;
  agentLog: string[];
  metricsUrl: string;
  loops: string[];
  dir: string;
}
const test = gatedSerial(enabled);
/** Shared by the serial tests below (ava gives each test its own copy of t.context). */
const ctx = { loops: [], agentLog: [] } as unknown as Ctx;

async function loopDevice(ctx: Ctx, sizeMiB: number): Promise<string> {
  const dev = await createLoopDevice(ctx.dir, `disk-${ctx.loops.length}.img`, sizeMiB);
  ctx.loops.push(dev);
  return dev;
}

test.before(async () => {
  if (!enabled) return;
  ctx.dir = await mkdtemp(join(tmpdir(), "nls-agent-e2e-"));
  // The daemons' real RBAC and admission policy (the workloads themselves never run: there is no kubelet).
  const cluster = (ctx.cluster = await startDeployedCluster());
  for (const node of [NODE, OTHER_NODE]) {
    await cluster.kubectlOk(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: node, labels: { "kubernetes.io/hostname": node, "nls-e2e": "yes" } },
      }),
    );
  }
});

test.after.always(async () => {
  if (ctx.agent && ctx.agent.child.exitCode === null) ctx.agent.child.kill("SIGKILL");
  await removeVgsAndLoops([VG], ctx.loops);
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
  await ctx.cluster?.stop();
});

test("the agent creates its NodeLocalStorage from the init config, owned by its Node, and initialises the VG on a clean device", async (t) => {
  const { cluster } = ctx;
  const clean = await loopDevice(ctx, 64);
  await applyInitConfig(cluster, {
    listConfig: { vgs: { include: ["nlse2e-.*"] }, devices: { include: ["/dev/loop[0-9]+"] } },
    resourceToBeInited: { vgs: [{ name: VG, devices: [clean] }] },
  });
  ctx.agent = await startAgent(cluster, NODE, { devices: ctx.loops, interval: "1s", log: ctx.agentLog });
  ctx.metricsUrl = ctx.agent.metricsUrl;
  t.teardown(() => {
    if (!t.passed) t.log(ctx.agentLog.slice(-30).join("\n"));
  });

  const nls = await nlsWithVg(cluster, NODE, VG);
  t.is(nls.spec.nodeName, NODE);
  t.deepEqual(nls.spec.listConfig.vgs.include, ["nlse2e-.*"]);
  const nodeUid = (await cluster.kubectlOk(["get", "node", NODE, "-o", "jsonpath={.metadata.uid}"])).trim();
  t.like(nls.metadata.ownerReferences?.[0], { kind: "Node", name: NODE, uid: nodeUid });
  const vg = nls.status.nodeStorageInfo.volumeGroups.find((v: { name: string }) => v.name === VG);
  t.deepEqual(vg.physicalVolumes, [clean]);
  // The VG is real: LVM itself reports it, with the size the agent put in status.
  const vgs = JSON.parse(
    (await run("vgs", ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "vg_name,vg_size", VG])).stdout,
  );
  t.is(Number(vgs.report[0].vg[0].vg_size), vg.total);
  t.is(nls.status.summary.volumeGroups, 1);
  t.is(nls.status.summary.freeBytes, vg.available, "a new VG holds no LV: all of it is free");
  t.is(nls.status.filteredStorageInfo.updateStatusInfo.updateStatus, "accepted");
});

test("a steady node makes no writes, while its Lease keeps being renewed", async (t) => {
  const { cluster, metricsUrl } = ctx;
  const before = await getNls(cluster, NODE);
  const lease0 = JSON.parse(
    await cluster.kubectlOk(["get", "lease", "-n", "nls-node-lease", `nls-agent-${NODE}`, "-o", "json"]),
  );
  const start = await agentScans(metricsUrl);
  await waitFor(
    "three more scans",
    async () => ((await agentScans(metricsUrl)) >= start + 3 ? true : undefined),
    60_000,
  );
  const after = await getNls(cluster, NODE);
  t.is(after.metadata.resourceVersion, before.metadata.resourceVersion);
  t.is(lease0.spec.holderIdentity !== undefined, true);
  const lease1 = await waitFor(
    "a lease renewal",
    async () => {
      const l = JSON.parse(
        await cluster.kubectlOk(["get", "lease", "-n", "nls-node-lease", `nls-agent-${NODE}`, "-o", "json"]),
      );
      return l.spec.renewTime !== lease0.spec.renewTime ? l : undefined;
    },
    60_000,
  );
  t.true(Date.parse(lease1.spec.renewTime) > Date.parse(lease0.spec.renewTime));
});

test("a user's spec edit is kept and applied at once; a bad pattern is reported in status", async (t) => {
  const { cluster } = ctx;
  const setVgSelection = (vgs: { include: string[]; exclude: string[] }) =>
    cluster.kubectlOk(["patch", "nls", NODE, "--type=merge", "-p", JSON.stringify({ spec: { listConfig: { vgs } } })]);
  await setVgSelection({ include: ["nlse2e-.*"], exclude: [VG] });
  await waitFor("the VG to leave the selection", async () => {
    const o = await getNls(cluster, NODE);
    return o && !(o.status.filteredStorageInfo.volumeGroups ?? []).includes(VG) ? true : undefined;
  });
  await setVgSelection({ include: ["nlse2e-(", "nlse2e-.*"], exclude: [] });
  const o = await waitFor("updateStatus failed", async () => {
    const o = await getNls(cluster, NODE);
    return o?.status.filteredStorageInfo.updateStatusInfo.updateStatus === "failed" ? o : undefined;
  });
  t.regex(o.status.filteredStorageInfo.updateStatusInfo.reason, /nlse2e-\(/);
  t.deepEqual(o.status.filteredStorageInfo.volumeGroups, [VG]);
  t.deepEqual(o.spec.listConfig.vgs.include, ["nlse2e-(", "nlse2e-.*"]);
  t.is(ctx.agent.child.exitCode, null, "the agent keeps running");
});

test("the admission policy confines the agent's token to its own node's objects", async (t) => {
  const { cluster } = ctx;
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "csi.aliyun.com/v1alpha1",
      kind: "NodeLocalStorage",
      metadata: { name: OTHER_NODE },
      spec: { nodeName: OTHER_NODE },
    }),
  );
  const kubeconfig = await cluster.serviceAccountKubeconfig("kube-system", "nls-agent", NODE);
  const as = (args: string[], input?: string) => run("kubectl", ["--kubeconfig", kubeconfig, ...args], {}, input);
  const statusPath = (name: string) => `/apis/csi.aliyun.com/v1alpha1/nodelocalstorages/${name}/status`;
  const bodyFile = async (name: string, obj: unknown) => {
    const path = join(ctx.dir, `${name}.json`); // kubectl --raw does not read "-f -"
    await writeFile(path, JSON.stringify(obj));
    return path;
  };
  // --raw PUT: the agent's RBAC allows update on nodelocalstorages/status, not the GET kubectl does first.
  const otherObj = JSON.parse((await as(["get", "nls", OTHER_NODE, "-o", "json"])).stdout);
  otherObj.status = { nodeStorageInfo: { phase: "Running" } };
  const other = await as(["replace", "--raw", statusPath(OTHER_NODE), "-f", await bodyFile("other", otherObj)]);
  t.not(other.exitCode, 0);
  t.regex(other.stderr, /may only write NodeLocalStorage e2e-node-1/);
  const own = await as(["get", "nls", NODE, "-o", "name"]);
  t.is(own.exitCode, 0);
  // RBAC: the agent cannot delete NodeLocalStorages or touch PVCs.
  t.regex((await as(["auth", "can-i", "delete", "nodelocalstorages.csi.aliyun.com"])).stdout, /^no/);
  t.regex((await as(["auth", "can-i", "patch", "persistentvolumeclaims", "-A"])).stdout, /^no/);
  // An unbound token of the same service account is refused by the policy outright.
  const unbound = await cluster.serviceAccountKubeconfig("kube-system", "nls-agent");
  const ownObj = JSON.parse(await cluster.kubectlOk(["get", "nls", NODE, "-o", "json"]));
  const r = await run("kubectl", [
    "--kubeconfig",
    unbound,
    "replace",
    "--raw",
    statusPath(NODE),
    "-f",
    await bodyFile("own", ownObj),
  ]);
  t.not(r.exitCode, 0);
  t.regex(r.stderr, /node-bound service-account token/);
});

test("SIGTERM ends the agent cleanly", async (t) => {
  t.is(await ctx.agent.stop(), 0);
});
