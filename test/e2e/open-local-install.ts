/**
 * The objects an open-local v0.8.0 Helm install (release `open-local`, its default values) leaves in
 * kube-system, reduced to what the migration touches: object names, labels and selectors, container
 * names and the CSI controller's arguments. Images and the rest of the pod specs are placeholders.
 */
const labels = { "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/name": "open-local" };
const namespace = "kube-system";

const container = (name: string, args: string[] = []) => ({ name, image: `example.invalid/${name}:v0`, args });

function workload(kind: "DaemonSet" | "Deployment", name: string, containers: object[]) {
  const component = { ...labels, "app.kubernetes.io/component": name };
  return {
    apiVersion: "apps/v1",
    kind,
    metadata: { name, namespace, labels: component },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/component": name } },
      template: {
        metadata: { labels: component },
        spec: {
          serviceAccountName: "open-local",
          containers,
          volumes: [{ name: "host-dev", hostPath: { path: "/dev" } }],
        },
      },
    },
  };
}

const csiPlugin = (mode: string) =>
  container("csi-plugin", [
    "csi",
    "--endpoint=$(CSI_ENDPOINT)",
    "--nodeID=$(KUBE_NODE_NAME)",
    "--driver=local.csi.aliyun.com",
    `--driver-mode=${mode}`,
  ]);

export const openLocalAgent = workload("DaemonSet", "open-local-agent", [
  container("agent", [
    "agent",
    "--nodename=$(KUBE_NODE_NAME)",
    "--path.sysfs=/host_sys",
    "--path.mount=/mnt/open-local/",
    "--lvname=local",
  ]),
  container("driver-registrar", ["--v=5", "--csi-address=/csi/csi.sock"]),
  csiPlugin("node"),
]);

export const openLocalController = workload("Deployment", "open-local-controller", [
  container("csi-provisioner", [
    "--csi-address=$(ADDRESS)",
    "--volume-name-prefix=local",
    "--feature-gates=Topology=True",
    "--strict-topology=True",
    "--extra-create-metadata=true",
    "--timeout=10m",
  ]),
  container("csi-resizer", ["--csi-address=$(ADDRESS)"]),
  container("csi-snapshotter", ["--csi-address=$(ADDRESS)", "--snapshot-name-prefix=snap"]),
  csiPlugin("controller"),
  container("controller", ["controller", "--initconfig=open-local", "--feature-gates=UpdateNLS=true"]),
  container("snapshot-controller"),
]);

export const openLocalExtender = workload("Deployment", "open-local-scheduler-extender", [
  container("open-local-scheduler-extender", ["scheduler", "--port=23000", "--scheduler-strategy=spread"]),
]);

export const openLocalExtenderService = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "open-local-scheduler-extender", namespace, labels },
  spec: {
    selector: {
      "app.kubernetes.io/name": "open-local",
      "app.kubernetes.io/component": "open-local-scheduler-extender",
    },
    ports: [{ name: "http-port", protocol: "TCP", port: 23000, targetPort: 23000 }],
  },
};

export const openLocalInitJob = {
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "open-local-init-job", namespace, labels },
  spec: {
    template: {
      spec: { restartPolicy: "OnFailure", containers: [container("init", ["sh", "-c", "true"])] },
    },
  },
};

export const openLocalInstall = [
  { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "open-local", namespace, labels } },
  openLocalAgent,
  openLocalController,
  openLocalExtender,
  openLocalExtenderService,
  openLocalInitJob,
];
