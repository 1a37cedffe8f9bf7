/**
 * From a pod to a provisioned volume, with nls in the place of open-local's agent and extender: the real
 * kube-scheduler (deploy/scheduler's configuration) calling the built `nls-extender`, the real
 * kube-controller-manager binding volumes, and a stand-in for open-local's CSI controller behind
 * external-provisioner (open-local-csi.ts) calling the reserve route as the driver does — through the
 * Service objects deploy/ ships, resolved in the API server as cluster DNS would.
 */
import { isIP } from "node:net";
import { parse, stringify } from "yaml";
import { flagValue } from "../deploy/leader-routing.js";
import { find, kustomizeWithComponent } from "../deploy/render.js";
import { gatedSerial } from "../gate.js";
import { ADMIN_TOKEN, crdsEstablished, e2eGate, freePort, startCluster, waitFor, type Cluster } from "./cluster.js";
import { containerCommand, podOf } from "./container-command.js";
import { schedulerConfigFor, startExtender, type ExtenderProcess } from "./daemons.js";
import { addStorageNode, setNodeStorage, type NodeStorage } from "./node-storage.js";
import { kubeApi, type KubeApi } from "./kube-api.js";
import { doRequest, OpenLocalCsiStandIn, type Resolver } from "./open-local-csi.js";

const GI = 2 ** 30;
const NODES = ["prov-a", "prov-b"];
/** open-local's chart runs its CSI controller in kube-system: the short Service name resolves there. */
const DRIVER_NAMESPACE = "kube-system";
const gate = await e2eGate();
const test = gatedSerial(gate.run);
if (!gate.run) console.log(`# provisioning e2e skipped: ${gate.why}`);

const storage = (vgBytes: number): NodeStorage => ({
  vgs: [{ name: "pool-0", bytes: vgBytes }],
  devices: [
    { name: "/dev/vdc", bytes: 100 * GI, mediaType: "ssd" },
    // Holds the mount point: not offered as a device.
    { name: "/dev/vdd", bytes: 100 * GI, mediaType: "hdd", selected: false },
  ],
  mountPoints: [{ path: "/mnt/open-local/hdd-0", bytes: 100 * GI, device: "/dev/vdd" }],
});

const ctx = {} as {
  cluster: Cluster;
  api: KubeApi;
  extender: ExtenderProcess;
  csi: OpenLocalCsiStandIn;
  /** Every URL the stand-in driver called. */
  calls: string[];
};

interface Service {
  metadata: { name: string; namespace: string };
  spec: { clusterIP?: string; ports: Array<{ name?: string; port: number }> };
}

/**
 * Cluster DNS and kube-proxy for the driver: a short name is a Service in the driver's namespace, an IP
 * a Service's ClusterIP. The Services have no selector: the leader writes its address into their
 * EndpointSlices. So the Service must expose the port, one of its slices must carry that port by name
 * with the container port of the nls-extender Deployment (as applied from deploy/), and the Deployment
 * must name that slice in `--leader-endpoint-slices`; the leader is the local extender process.
 */
const serviceNetwork: Resolver = async (host, port) => {
  const svc = isIP(host)
    ? (await ctx.api.get<{ items: Service[] }>("/api/v1/services")).items.find((s) => s.spec.clusterIP === host)
    : await ctx.api.find<Service>(`/api/v1/namespaces/${DRIVER_NAMESPACE}/services/${host}`);
  if (!svc) throw new Error(`lookup ${host}: no such host`);
  const deployment = await ctx.api.get<{
    metadata: { namespace: string };
    spec: {
      template: {
        spec: { containers: Array<{ args: string[]; ports: Array<{ name: string; containerPort: number }> }> };
      };
    };
  }>("/apis/apps/v1/namespaces/kube-system/deployments/nls-extender");
  const container = deployment.spec.template.spec.containers[0]!;
  // The slices as the kubelet expands --leader-endpoint-slices from the pod's env.
  const { args } = containerCommand(podOf(deployment, "nls-extender-0", "node-a"), "10.88.0.9");
  const slices = await ctx.api.get<{
    items: Array<{ metadata: { name: string }; ports?: Array<{ name?: string; port?: number }> }>;
  }>(
    `/apis/discovery.k8s.io/v1/namespaces/${svc.metadata.namespace}/endpointslices?labelSelector=` +
      encodeURIComponent(`kubernetes.io/service-name=${svc.metadata.name}`),
  );
  const written = flagValue(args, "leader-endpoint-slices")?.split(",") ?? [];
  const servicePort = svc.spec.ports.find((p) => p.port === port);
  const routed = slices.items.some(
    (slice) =>
      written.includes(slice.metadata.name) &&
      (slice.ports ?? []).some(
        (p) => p.name === servicePort?.name && container.ports.some((c) => c.containerPort === p.port),
      ),
  );
  if (!servicePort || !routed) throw new Error(`connect: connection refused`);
  return { host: "127.0.0.1", port: ctx.extender.port };
};

test.before(async () => {
  if (!gate.run) return;
  const cluster = (ctx.cluster = await startCluster());
  ctx.api = kubeApi(cluster.server, ADMIN_TOKEN);
  // deploy/ with the second scheduler (components/second-scheduler), as on a managed control plane.
  const objects = await kustomizeWithComponent("second-scheduler");
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  await crdsEstablished(cluster);
  await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "default"]);
  // Binds a claim to the PV the provisioner creates, and hands WaitForFirstConsumer claims to it.
  await cluster.startControllerManager("persistentvolume-binder-controller");
  for (const n of NODES) await addStorageNode(cluster, n, storage(100 * GI));
  const storageClass = (name: string, parameters: Record<string, string>) =>
    create({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name },
      provisioner: "local.csi.aliyun.com",
      parameters,
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
    });
  // open-local's chart's classes.
  await storageClass("open-local-lvm", { volumeType: "LVM", "csi.storage.k8s.io/fstype": "ext4" });
  await storageClass("open-local-device-ssd", {
    volumeType: "Device",
    mediaType: "ssd",
    "csi.storage.k8s.io/fstype": "ext4",
  });
  await storageClass("open-local-mountpoint-hdd", { volumeType: "MountPoint", mediaType: "hdd" });

  ctx.extender = await startExtender(cluster, await freePort(), { webhook: true });
  await cluster.startScheduler(await schedulerConfigFor(`http://127.0.0.1:${ctx.extender.port}`));
  // The second scheduler exactly as the component configures it, as its ServiceAccount with the
  // component's RBAC (leader election included), only pointed at this extender and API server.
  const second = parse(
    (find(objects, "ConfigMap", "nls-scheduler-config") as unknown as { data: Record<string, string> }).data[
      "config.yaml"
    ]!,
  );
  second.clientConnection = { kubeconfig: await cluster.serviceAccountKubeconfig("kube-system", "nls-scheduler") };
  second.extenders[0].urlPrefix = `http://127.0.0.1:${ctx.extender.port}/scheduler`;
  await cluster.startScheduler(stringify(second));

  ctx.calls = [];
  ctx.csi = new OpenLocalCsiStandIn(ctx.api, {
    env: {},
    extenderSchedulerNames: ["default-scheduler"],
    post: (url) => {
      ctx.calls.push(url);
      return doRequest(url, serviceNetwork);
    },
  });
  ctx.csi.start();
});

test.after.always(async () => {
  await ctx.csi?.stop();
  await ctx.extender?.stop();
  await ctx.cluster?.stop();
});

const pvc = (name: string, storageClassName: string, size: string) => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace: "default" },
  spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: size } } },
});
const pod = (name: string, claims: string[], schedulerName?: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: {
    ...(schedulerName ? { schedulerName } : {}),
    containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }],
    volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
  },
});
const create = (...objects: object[]) =>
  ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));

interface PvcObject {
  metadata: { uid: string; annotations?: Record<string, string> };
  spec: { volumeName?: string };
  status: { phase: string };
}
interface PvObject {
  spec: {
    csi: { driver: string; volumeAttributes: Record<string, string> };
    nodeAffinity: { required: { nodeSelectorTerms: Array<{ matchExpressions: Array<{ values: string[] }> }> } };
  };
}
const getPvc = (name: string) => ctx.api.get<PvcObject>(`/api/v1/namespaces/default/persistentvolumeclaims/${name}`);
const pvNode = (pv: PvObject): string =>
  pv.spec.nodeAffinity.required.nodeSelectorTerms[0]!.matchExpressions[0]!.values[0]!;

/** Waits for the claim to be bound; its PV. */
async function boundPv(name: string): Promise<PvObject> {
  const claim = await waitFor(
    `pvc ${name} bound`,
    async () => {
      const c = await getPvc(name);
      return c.status.phase === "Bound" ? c : undefined;
    },
    120_000,
  );
  return ctx.api.get<PvObject>(`/api/v1/persistentvolumes/${claim.spec.volumeName}`);
}

const podNode = (name: string) =>
  waitFor(`pod ${name} bound to a node`, async () => {
    const p = await ctx.api.get<{ spec: { nodeName?: string } }>(`/api/v1/namespaces/default/pods/${name}`);
    return p.spec.nodeName || undefined;
  });

test("an LVM, a Device and a MountPoint PVC each get a PV through open-local's driver, on the pod's node", async (t) => {
  t.teardown(() => {
    if (!t.passed)
      t.log([...ctx.csi.attempts.map((a) => JSON.stringify(a)), ...ctx.extender.log.slice(-30)].join("\n"));
  });
  await create(
    pvc("data", "open-local-lvm", "10Gi"),
    pvc("raw", "open-local-device-ssd", "80Gi"),
    pvc("dir", "open-local-mountpoint-hdd", "60Gi"),
    pod("app", ["data", "raw", "dir"]),
  );
  const [lvm, device, mountPoint] = [await boundPv("data"), await boundPv("raw"), await boundPv("dir")];
  const node = await podNode("app");
  for (const pv of [lvm, device, mountPoint]) {
    t.is(pv.spec.csi.driver, "local.csi.aliyun.com");
    t.is(pvNode(pv), node);
    t.is(pv.spec.csi.volumeAttributes["volume.kubernetes.io/selected-node"], node);
  }
  t.like(lvm.spec.csi.volumeAttributes, { volumeType: "LVM", vgName: "pool-0" });
  t.like(device.spec.csi.volumeAttributes, { volumeType: "Device", Device: "/dev/vdc" });
  t.like(mountPoint.spec.csi.volumeAttributes, { volumeType: "MountPoint", MountPoint: "/mnt/open-local/hdd-0" });
  // The driver's calls, to the Service name it has built in, as it builds them.
  for (const [claim, type] of [
    ["data", "LVM"],
    ["raw", "Device"],
    ["dir", "MountPoint"],
  ]) {
    t.true(
      ctx.calls.includes(
        `http://open-local-scheduler-extender:23000/apis/scheduling/default/persistentvolumeclaims/${claim}?volumeType=${type}&nodeName=${node}`,
      ),
      `${claim}: ${ctx.calls.join(", ")}`,
    );
  }
  // The extender now counts the PVs themselves: the device and the mount point are taken.
  const cache = (await (await fetch(`http://127.0.0.1:${ctx.extender.debugPort}/cache?nodeName=${node}`)).json()) as {
    ledger: { nodes: Record<string, { vgs: Record<string, number>; devices: Record<string, string> }> };
  };
  t.deepEqual(cache.ledger.nodes[node]?.vgs, { "pool-0": 10 * GI });
  t.deepEqual(Object.keys(cache.ledger.nodes[node]?.devices ?? {}).sort(), ["/dev/vdc", "/mnt/open-local/hdd-0"]);
});

test("a reserve refused as Insufficient gives the node back: the pod is scheduled again and provisioned elsewhere", async (t) => {
  await ctx.csi.stop();
  await create(pvc("grow", "open-local-lvm", "80Gi"), pod("grow", ["grow"]));
  const first = await waitFor(
    "grow to get a node",
    async () => (await getPvc("grow")).metadata.annotations?.["volume.kubernetes.io/selected-node"],
  );
  // Before the driver gets to it, the VG of that node shrinks (another consumer took the space).
  await setNodeStorage(ctx.cluster, first, storage(50 * GI));
  ctx.csi.start();
  const pv = await boundPv("grow");
  t.not(pvNode(pv), first);
  t.is(await podNode("grow"), pvNode(pv));
  const refused = ctx.csi.attempts.find((a) => a.pvc === "default/grow" && a.outcome === "reschedule");
  t.regex(
    refused?.message ?? "",
    new RegExp(
      `^rpc error: code = ResourceExhausted desc = CreateVolume: fail to schedule LVM local-[-0-9a-f]+: .*Get Response StatusCode 500, Response: Insufficient LVM storage on node ${first}`,
    ),
  );
});

test("any other error is retried on the same node: nls-scheduler, unknown to the driver, stalls the PVC until it is listed", async (t) => {
  await create(pvc("other", "open-local-lvm", "5Gi"), pod("other", ["other"], "nls-scheduler"));
  const node = await waitFor(
    "other to get a node",
    async () => (await getPvc("other")).metadata.annotations?.["volume.kubernetes.io/selected-node"],
  );
  await waitFor("three refused attempts", async () =>
    ctx.csi.attempts.filter((a) => a.pvc === "default/other").length >= 3 ? true : undefined,
  );
  const attempts = ctx.csi.attempts.filter((a) => a.pvc === "default/other");
  for (const a of attempts) {
    t.is(a.outcome, "retry");
    t.is(
      a.message,
      "rpc error: code = Unknown desc = CreateVolume: scheduler arch of pvc(default/other) is unknown, plz check again",
    );
  }
  const stalled = await getPvc("other");
  t.is(stalled.metadata.annotations?.["volume.kubernetes.io/selected-node"], node, "still on the node it was given");
  t.is(stalled.status.phase, "Pending");
  // What the migration guide has operators set on the driver: --extender-scheduler-names=default-scheduler,nls-scheduler.
  ctx.csi.options.extenderSchedulerNames = ["default-scheduler", "nls-scheduler"];
  t.is(pvNode(await boundPv("other")), node);
});

test("EXTENDER_SVC_IP set to the alias Service's ClusterIP reaches nls too", async (t) => {
  const alias = await ctx.api.get<Service>(`/api/v1/namespaces/kube-system/services/open-local-scheduler-extender`);
  const ip = alias.spec.clusterIP!;
  ctx.csi.options.env = { EXTENDER_SVC_IP: ip };
  await create(pvc("by-ip", "open-local-lvm", "5Gi"), pod("by-ip", ["by-ip"]));
  const pv = await boundPv("by-ip");
  t.is(pv.spec.csi.volumeAttributes.vgName, "pool-0");
  t.true(
    ctx.calls.some((u) => u.startsWith(`http://${ip}:23000/apis/scheduling/default/persistentvolumeclaims/by-ip?`)),
  );
});
