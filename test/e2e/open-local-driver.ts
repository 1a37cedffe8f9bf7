/**
 * A stand-in for open-local v0.8.0's CSI controller (`open-local csi --driver-mode=controller`) behind
 * external-provisioner (csi-provisioner, as open-local's chart runs it: `--volume-name-prefix=local
 * --extra-create-metadata=true --feature-gates=Topology=True --strict-topology=True`), for end-to-end
 * tests. open-local's Go module is not served by the module proxy, so its CreateVolume is reproduced
 * here from its source (pkg/csi/controllerserver.go, pkg/csi/adapter/adapter.go,
 * pkg/csi/client/http.go), step for step up to the point where it would create the volume on the node:
 *
 *  1. the PVC must carry `volume.kubernetes.io/selected-node` (WaitForFirstConsumer only);
 *  2. the scheduler of the pod using the PVC must be one of `--extender-scheduler-names` (default
 *     `default-scheduler`), else `scheduler arch of pvc(ns/name) is unknown` (gRPC Unknown);
 *  3. it asks the extender: `POST http://open-local-scheduler-extender:23000` (or `EXTENDER_SVC_IP`,
 *     an IP literal, and `EXTENDER_SVC_PORT`) `/apis/scheduling/<ns>/persistentvolumeclaims/<name>
 *     ?volumeType=<type>&nodeName=<node>`, no body, `Content-Type: application/json`, a 10 s client
 *     timeout; a non-200 answer is the error `Get Response StatusCode <n>, Response: <body>`. An LVM
 *     class with a `vgName` parameter skips the call. It reads `vgName` (LVM; `node` must be non-empty
 *     too), `disk` (MountPoint) or `device` (Device);
 *  4. an error whose text contains `Insufficient` is gRPC ResourceExhausted, on which
 *     external-provisioner removes `selected-node` so the pod is scheduled again; any other error is
 *     retried later on the same node;
 *  5. the PV external-provisioner then creates: named `local-<pvc uid>`, node affinity
 *     `kubernetes.io/hostname In [node]`, volume attributes = the class parameters (without the
 *     `csi.storage.k8s.io/` ones) + the PVC/PV names + `vgName` | `Device` | `MountPoint` + the
 *     selected node.
 *
 * Not reproduced: the node's plugin that creates the LV (there is no node here; a test may stand one in
 * with `DriverOptions.createOnNode`), and snapshots. The decision logic is pure (the exported functions);
 * `OpenLocalCsiStandIn` (open-local-csi.ts) is the loop that applies it to the API server as the two
 * containers would.
 */
import { isIP } from "node:net";

export const DRIVER = "local.csi.aliyun.com";
export const DEFAULT_EXTENDER_SERVICE = "open-local-scheduler-extender";
export const DEFAULT_EXTENDER_PORT = "23000";
export const SELECTED_NODE = "volume.kubernetes.io/selected-node";

/** The csi-plugin container's environment that moves the extender. */
export interface DriverEnv {
  EXTENDER_SVC_IP?: string;
  EXTENDER_SVC_PORT?: string;
}

/** adapter.getExtenderURLHost: a value that is not an IP is bracketed anyway (and so never connects). */
export function extenderUrlHost(env: DriverEnv): string {
  const port = env.EXTENDER_SVC_PORT || DEFAULT_EXTENDER_PORT;
  const ip = env.EXTENDER_SVC_IP;
  if (!ip) return `http://${DEFAULT_EXTENDER_SERVICE}:${port}`;
  return isIP(ip) === 4 ? `http://${ip}:${port}` : `http://[${ip}]:${port}`;
}

/** adapter.ScheduleVolume's path (Go Sprintf: nothing is escaped). */
export function scheduleVolumePath(
  volumeType: string,
  pvcName: string,
  pvcNamespace: string,
  vgName: string,
  nodeId: string,
): string {
  const base = `/apis/scheduling/${pvcNamespace}/persistentvolumeclaims/${pvcName}`;
  if (nodeId && vgName) return `${base}?nodeName=${nodeId}&volumeType=${volumeType}&vgName=${vgName}`;
  if (vgName) return `${base}?volumeType=${volumeType}&vgName=${vgName}`;
  if (nodeId) return `${base}?volumeType=${volumeType}&nodeName=${nodeId}`;
  return `${base}?volumeType=${volumeType}`;
}

/** pkg.BindingInfo, the reserve route's answer. */
export interface BindingInfo {
  node?: string;
  disk?: string;
  vgName?: string;
  device?: string;
  volumeType?: string;
  persistentVolumeClaim?: string;
}

export type SchedulerArch = "extender" | "scheduling-framework" | "unknown";

export function schedulerArch(name: string, extenderNames: readonly string[], frameworkNames: readonly string[] = []) {
  if (frameworkNames.includes(name)) return "scheduling-framework";
  return extenderNames.includes(name) ? "extender" : "unknown";
}

/** A gRPC status as the driver returns it; `message` is what `err.Error()` prints. */
export class GrpcError extends Error {
  constructor(
    readonly code: "InvalidArgument" | "Internal" | "Unknown" | "Unimplemented" | "ResourceExhausted",
    readonly desc: string,
  ) {
    super(`rpc error: code = ${code} desc = ${desc}`);
  }
}

/**
 * What external-provisioner does with a failed CreateVolume of a WaitForFirstConsumer claim
 * (csi-provisioner's checkError with rescheduling allowed): ResourceExhausted gives the node back,
 * anything else is retried on the same node.
 */
export const provisioningStateOf = (e: GrpcError): "reschedule" | "retry" =>
  e.code === "ResourceExhausted" ? "reschedule" : "retry";

/** What CreateVolume needs from the cluster, gathered by the caller. */
export interface CreateVolumeInput {
  /** The volume's name (external-provisioner's `local-<pvc uid>`). */
  volumeId: string;
  /** The CreateVolume parameters: class parameters without `csi.storage.k8s.io/*`, plus the PVC/PV names. */
  parameters: Record<string, string>;
  requiredBytes: number;
  accessModes: string[];
  /** The PVC's annotations, as the driver's lister has them. */
  pvcAnnotations: Record<string, string>;
  /** `pod.spec.schedulerName` of the pod that uses the PVC ("" when none). */
  schedulerName: string;
}

export interface DriverOptions {
  env: DriverEnv;
  extenderSchedulerNames: readonly string[];
  frameworkSchedulerNames?: readonly string[];
  /** client.DoRequest: the call to the extender (`doRequest` below, or a fake in unit tests). */
  post(url: string): Promise<{ status: number; body: string }>;
  /**
   * The node plugin creating the volume once CreateVolume has its answer (e.g. `lvcreate` in the VG);
   * throws a GrpcError when the node refuses. Without it, every volume is created.
   */
  createOnNode?(result: CreateVolumeResult): Promise<void> | void;
}

/**
 * Where a host and port of the driver's URL lead: what DNS and kube-proxy do in a cluster (a Service
 * name in the driver's namespace, or a ClusterIP, to a pod). The tests resolve through the Service
 * objects in the API server, so a missing or wrong Service fails as it would in a cluster.
 */
export type Resolver = (host: string, port: number) => Promise<{ host: string; port: number }>;

/**
 * client.DoRequest: POST with no body, `Content-Type: application/json`, a 10 s client timeout; the
 * body is returned whatever the status. Errors read as Go's net/http prints them.
 */
export async function doRequest(url: string, resolve: Resolver): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const to = await resolve(u.hostname, Number(u.port || "80"));
  try {
    const res = await fetch(`http://${to.host}:${to.port}${u.pathname}${u.search}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    const name = (e as Error).name;
    throw new Error(
      name === "TimeoutError" || name === "AbortError"
        ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        : `dial tcp ${to.host}:${to.port}: ${(e as Error).message}`,
    );
  }
}

export interface CreateVolumeResult {
  volumeId: string;
  capacityBytes: number;
  volumeContext: Record<string, string>;
  node: string;
}

/** controllerServer.CreateVolume up to the node call; throws GrpcError. */
export async function createVolume(req: CreateVolumeInput, o: DriverOptions): Promise<CreateVolumeResult> {
  if (!req.volumeId || req.accessModes.length === 0) {
    throw new GrpcError(
      "InvalidArgument",
      "CreateVolume: fail to validate CreateVolumeRequest: Volume name not provided",
    );
  }
  if (req.accessModes.some((m) => m !== "ReadWriteOnce")) {
    throw new GrpcError(
      "InvalidArgument",
      `CreateVolume: fail to validate CreateVolumeRequest: Volume capabilities ${req.accessModes.join(", ")} not supported. Only AccessModes[ReadWriteOnce] supported.`,
    );
  }
  const p = req.parameters;
  const volumeType = p.volumeType ?? "";
  const pvcName = p["csi.storage.k8s.io/pvc/name"] ?? "";
  const pvcNamespace = p["csi.storage.k8s.io/pvc/namespace"] ?? "";
  if (!pvcName || !pvcNamespace) {
    throw new GrpcError(
      "InvalidArgument",
      `CreateVolume: pvcName(${pvcNamespace}) or pvcNamespace(${pvcName}) can not be empty`,
    );
  }
  const key = `${pvcNamespace}/${pvcName}`;
  const node = req.pvcAnnotations[SELECTED_NODE];
  if (node === undefined) {
    throw new GrpcError(
      "Unimplemented",
      `CreateVolume: no annotation ${SELECTED_NODE} found in pvc ${key}. Check if volumeBindingMode of storageclass is WaitForFirstConsumer, cause we only support WaitForFirstConsumer mode`,
    );
  }
  const paramMap: Record<string, string> = {};
  const arch = schedulerArch(req.schedulerName, o.extenderSchedulerNames, o.frameworkSchedulerNames);
  if (arch === "unknown") {
    throw new GrpcError("Unknown", `CreateVolume: scheduler arch of pvc(${key}) is unknown, plz check again`);
  }
  if (arch === "extender") {
    const ask = async (what: string): Promise<BindingInfo> => {
      const url = extenderUrlHost(o.env) + scheduleVolumePath(volumeType, pvcName, pvcNamespace, "", node);
      let answer: { status: number; body: string };
      try {
        answer = await o.post(url);
      } catch (e) {
        throw new GrpcError("InvalidArgument", `${what} schedule with error Post "${url}": ${(e as Error).message}`);
      }
      if (answer.status !== 200) {
        throw new GrpcError(
          "InvalidArgument",
          `${what} schedule with error Get Response StatusCode ${answer.status}, Response: ${answer.body}`,
        );
      }
      try {
        return JSON.parse(answer.body) as BindingInfo;
      } catch (e) {
        throw new GrpcError("InvalidArgument", `${what} schedule with error ${(e as Error).message}`);
      }
    };
    // Each branch wraps its error as the driver does; `Insufficient` anywhere makes it ResourceExhausted.
    const failed = (e: unknown, prefix: string): never => {
      const text = e instanceof Error ? e.message : String(e);
      throw new GrpcError(text.includes("Insufficient") ? "ResourceExhausted" : "Internal", `${prefix}: ${text}`);
    };
    if (volumeType === "LVM") {
      let vgName = p.vgName ?? "";
      if (!vgName) {
        const info = await ask("lvm").catch((e) => failed(e, `CreateVolume: fail to schedule LVM ${req.volumeId}`));
        if (!info.vgName || !info.node) {
          failed(
            new GrpcError("InvalidArgument", `Lvm Schedule finished, but get empty: ${JSON.stringify(info)}`),
            `CreateVolume: fail to schedule LVM ${req.volumeId}`,
          );
        }
        vgName = info.vgName!;
      }
      paramMap.vgName = vgName;
    } else if (volumeType === "MountPoint") {
      const prefix = `CreateVolume: fail to schedule mountpoint ${req.volumeId} at node ${node}`;
      // The driver's own message says "lvm" here.
      const info = await ask("lvm").catch((e) => failed(e, prefix));
      if (!info.disk) failed(new GrpcError("InvalidArgument", "mountpoint schedule finish but Disk empty"), prefix);
      paramMap.MountPoint = info.disk!;
    } else if (volumeType === "Device") {
      const prefix = `CreateVolume: fail to schedule device volume ${req.volumeId} at node ${node}`;
      const info = await ask("device").catch((e) => failed(e, prefix));
      if (!info.device) failed(new GrpcError("InvalidArgument", "Device schedule finish but Disk empty"), prefix);
      paramMap.Device = info.device!;
    } else {
      throw new GrpcError("Unimplemented", `CreateVolume: no support volume type ${volumeType}`);
    }
  }
  return {
    volumeId: req.volumeId,
    capacityBytes: req.requiredBytes,
    volumeContext: { ...p, ...paramMap, [SELECTED_NODE]: node },
    node,
  };
}
