/**
 * A local nls cluster on this host: the e2e suite's real control plane (etcd, kube-apiserver,
 * kube-scheduler), deploy/'s CRDs, RBAC and admission policies, Node objects made by hand (there is no
 * kubelet), and per node the built nls-agent with a token bound to that Node and its own VG on a loop
 * device; the built nls-extender, and kube-scheduler configured with it as in deploy/scheduler.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { crdsEstablished, freePort, startCluster, waitFor, type Cluster } from "../e2e/cluster.js";
import { schedulerConfigFor, startAgent, startExtender } from "../e2e/daemons.js";
import { createLoopDevice, removeVgsAndLoops } from "../e2e/lvm.js";
import { addReadyNode } from "../e2e/nodes.js";
import type { Teardown } from "./teardown.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The objects of deploy/ that run workloads: here the daemons run as processes, not pods. */
const WORKLOAD_KINDS = new Set(["DaemonSet", "Deployment", "PodDisruptionBudget", "Service"]);

/** Tokens live this long: the cluster is meant to stay up while someone tries things. */
const TOKEN_DURATION = "720h";

export interface LocalClusterOptions {
  nodes: number;
  vgSizeMiB: number;
}

export interface LocalNode {
  name: string;
  vg: string;
  device: string;
  /** The agent's /metrics, once it runs. */
  metricsUrl?: string;
}

export interface LocalCluster {
  cluster: Cluster;
  nodes: LocalNode[];
  extenderUrl: string;
  /** The extender's debug views (`/cache`), on loopback. */
  debugUrl: string;
  /** Where the loop devices' sparse files are. */
  diskDir: string;
}

/** deploy/ (kustomize) without its workloads: the CRDs, RBAC, ServiceAccounts and admission policies. */
async function applyDeployWithoutWorkloads(cluster: Cluster): Promise<void> {
  const rendered = await cluster.kubectlOk(["kustomize", join(root, "deploy")]);
  const items = parseAllDocuments(rendered)
    .map((d) => d.toJS() as { kind?: string } | null)
    // The admission webhook's Service stays: the API server calls the extender's webhook through it.
    .filter(
      (o) =>
        o?.kind &&
        (!WORKLOAD_KINDS.has(o.kind) ||
          (o as { metadata?: { name?: string } }).metadata?.name === "nls-extender-webhook"),
    );
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items }));
  await crdsEstablished(cluster);
}

/** The init config each agent creates its NLS from: per node (by hostname label), its own VG on its own device. */
const initConfig = (nodes: readonly LocalNode[]) => ({
  apiVersion: "csi.aliyun.com/v1alpha1",
  kind: "NodeLocalStorageInitConfig",
  metadata: { name: "open-local" },
  spec: {
    nodesConfig: nodes.map((n) => ({
      selector: { matchLabels: { "kubernetes.io/hostname": n.name } },
      listConfig: { vgs: { include: [n.vg] } },
      resourceToBeInited: { vgs: [{ name: n.vg, devices: [n.device] }] },
    })),
  },
});

export async function startLocalCluster(
  options: LocalClusterOptions,
  teardown: Teardown,
  say: (line: string) => void,
): Promise<LocalCluster> {
  const suffix = randomBytes(3).toString("hex");
  const dir = await mkdtemp(join(tmpdir(), "nls-local-"));
  await teardown.add(`temp dir ${dir}`, () => rm(dir, { recursive: true, force: true }));

  const nodes: LocalNode[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    const vg = `nlslocal-${suffix}-${i}`;
    const device = await createLoopDevice(dir, `node-${i}.img`, options.vgSizeMiB);
    await teardown.add(`loop device ${device} and VG ${vg}`, () => removeVgsAndLoops([vg], [device]));
    nodes.push({ name: `node-${i}`, vg, device });
  }

  say("starting etcd and kube-apiserver …");
  const cluster = await startCluster();
  await teardown.add("the control plane", () => cluster.stop());
  await applyDeployWithoutWorkloads(cluster);
  await cluster.kubectlOk(["apply", "-f", join(root, "deploy/samples/storageclass.yaml")]);
  // No kube-controller-manager runs, so nothing creates the namespace's default ServiceAccount.
  await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(initConfig(nodes)));

  for (const n of nodes) {
    teardown.check();
    await addReadyNode(cluster, n.name);
    const agent = await startAgent(cluster, n.name, {
      devices: [n.device],
      interval: "10s",
      tokenDuration: TOKEN_DURATION,
    });
    await teardown.add(`the agent of ${n.name}`, () => agent.stop());
    n.metricsUrl = agent.metricsUrl;
  }
  say(`starting ${nodes.length} agents; each creates its VG …`);
  for (const n of nodes) {
    await waitFor(
      `${n.name}'s agent to report VG ${n.vg} (log: ${join(cluster.dir, `nls-agent-${n.name}.log`)})`,
      async () => {
        const r = await cluster.kubectl([
          "get",
          "nls",
          n.name,
          "-o",
          "jsonpath={.status.filteredStorageInfo.volumeGroups}",
        ]);
        return r.exitCode === 0 && r.stdout.includes(n.vg) ? true : undefined;
      },
      120_000,
    );
  }

  teardown.check();
  const port = await freePort();
  // With deploy/'s admission webhook: the sample pod's claim gets it marked for the extender.
  const extender = await startExtender(cluster, port, { tokenDuration: TOKEN_DURATION, webhook: true });
  await teardown.add("the extender", () => extender.stop());
  const extenderUrl = `http://127.0.0.1:${port}`;
  await cluster.startScheduler(await schedulerConfigFor(extenderUrl));
  return { cluster, nodes, extenderUrl, debugUrl: `http://127.0.0.1:${extender.debugPort}`, diskDir: dir };
}
