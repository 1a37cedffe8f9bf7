import type { V1Lease, V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from "@kubernetes/client-node";
import {
  ANNOTATION_NLS_ALLOCATION,
  ANNOTATION_PV_ALLOCATED,
  ANNOTATION_SELECTED_NODE,
  DEFAULT_LEASE_NAMESPACE,
  LABEL_HOSTNAME,
  leaseNameForNode,
  parseBytes,
  PROVISIONER,
  type NodeLocalStorage,
  type WirePod,
} from "@nls/api";

/**
 * Builders of the API objects nls reads, shaped as the API server returns them. Used by the tests and
 * the benchmark to fill the extender's cache directly.
 */

export const Gi = 1024 ** 3;

export interface NlsSpec {
  vgs?: Array<{
    name: string;
    allocatable: number | string;
    total?: number | string;
    condition?: string;
    /** The VG's extent size in bytes (absent: the status does not say, as open-local's). */
    extentSize?: number;
    /** Its LVs; `managed` absent as in open-local's status. */
    lvs?: Array<{ name: string; total: number | string; managed?: boolean }>;
  }>;
  devices?: Array<{ name: string; total: number | string; mediaType?: string; readOnly?: boolean; inUse?: string[] }>;
  /** Mount points; `device` names an entry of `devices` (its media type is the mount point's). */
  mountPoints?: Array<{ name: string; total: number | string; device: string; readOnly?: boolean }>;
  /** Selected names; defaults to every VG, device and mount point listed. */
  selectedVgs?: string[];
  selectedDevices?: string[];
  selectedMountPoints?: string[];
}

export function nls(node: string, spec: NlsSpec): NodeLocalStorage {
  const b = (v: number | string) => (typeof v === "number" ? v : parseBytes(v));
  const vgs = spec.vgs ?? [];
  const devices = spec.devices ?? [];
  const mountPoints = spec.mountPoints ?? [];
  return {
    apiVersion: "csi.aliyun.com/v1alpha1",
    kind: "NodeLocalStorage",
    metadata: { name: node },
    spec: { nodeName: node },
    status: {
      nodeStorageInfo: {
        volumeGroups: vgs.map((vg) => ({
          name: vg.name,
          physicalVolumes: [],
          logicalVolumes: (vg.lvs ?? []).map((lv) => ({
            name: lv.name,
            vgname: vg.name,
            total: b(lv.total),
            readOnly: false,
            condition: "DiskReady" as const,
            ...(lv.managed === undefined ? {} : { managed: lv.managed }),
          })),
          total: b(vg.total ?? vg.allocatable),
          available: b(vg.allocatable),
          allocatable: b(vg.allocatable),
          condition: (vg.condition ?? "DiskReady") as "DiskReady",
          ...(vg.extentSize === undefined ? {} : { extentSize: vg.extentSize }),
        })),
        deviceInfo: devices.map((d) => ({
          name: d.name,
          mediaType: (d.mediaType ?? "ssd") as "ssd",
          total: b(d.total),
          readOnly: d.readOnly ?? false,
          condition: "DiskReady" as const,
          ...(d.inUse ? { inUse: d.inUse } : {}),
        })),
        mountPoints: mountPoints.map((mp) => ({
          name: mp.name,
          total: b(mp.total),
          available: b(mp.total),
          fsType: "ext4",
          isBind: false,
          options: ["rw"],
          device: mp.device,
          readOnly: mp.readOnly ?? false,
          condition: "DiskReady" as const,
        })),
      },
      filteredStorageInfo: {
        volumeGroups: spec.selectedVgs ?? vgs.map((v) => v.name),
        devices: spec.selectedDevices ?? devices.map((d) => d.name),
        mountPoints: spec.selectedMountPoints ?? mountPoints.map((mp) => mp.name),
      },
    },
  };
}

export function storageClass(name: string, params: Record<string, string>, provisioner = PROVISIONER): V1StorageClass {
  return {
    metadata: { name },
    provisioner,
    parameters: params,
    volumeBindingMode: "WaitForFirstConsumer",
  };
}

export interface PvcSpec {
  className?: string;
  size?: string;
  volumeName?: string;
  selectedNode?: string;
  allocation?: string;
  uid?: string;
}

export function pvc(namespace: string, name: string, spec: PvcSpec): V1PersistentVolumeClaim {
  const annotations: Record<string, string> = {};
  if (spec.selectedNode) annotations[ANNOTATION_SELECTED_NODE] = spec.selectedNode;
  if (spec.allocation) annotations[ANNOTATION_NLS_ALLOCATION] = spec.allocation;
  return {
    metadata: { namespace, name, uid: spec.uid ?? `uid-${namespace}-${name}`, annotations },
    spec: {
      storageClassName: spec.className,
      volumeName: spec.volumeName,
      accessModes: ["ReadWriteOnce"],
      resources: spec.size === undefined ? {} : { requests: { storage: spec.size } },
    },
    status: { phase: spec.volumeName ? "Bound" : "Pending" },
  };
}

export interface PvSpec {
  node: string;
  size: string;
  vgName?: string;
  device?: string;
  claim?: { namespace: string; name: string; uid?: string };
  driver?: string;
}

export function pv(name: string, spec: PvSpec): V1PersistentVolume {
  const allocated = spec.device
    ? { deviceName: spec.device, volumeType: "Device" }
    : { vgName: spec.vgName ?? "", volumeType: "LVM" };
  return {
    metadata: { name, annotations: { [ANNOTATION_PV_ALLOCATED]: JSON.stringify(allocated) } },
    spec: {
      capacity: { storage: spec.size },
      csi: { driver: spec.driver ?? PROVISIONER, volumeHandle: name, volumeAttributes: {} },
      claimRef: spec.claim
        ? {
            namespace: spec.claim.namespace,
            name: spec.claim.name,
            uid: spec.claim.uid ?? `uid-${spec.claim.namespace}-${spec.claim.name}`,
          }
        : undefined,
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: LABEL_HOSTNAME, operator: "In", values: [spec.node] }] }],
        },
      },
    },
    status: { phase: spec.claim ? "Bound" : "Available" },
  };
}

export function lease(
  node: string,
  renewTime: Date,
  durationSeconds = 40,
  namespace = DEFAULT_LEASE_NAMESPACE,
): V1Lease {
  return {
    metadata: { name: leaseNameForNode(node), namespace },
    spec: { holderIdentity: node, leaseDurationSeconds: durationSeconds, renewTime: renewTime as unknown as Date },
  };
}

export function pod(namespace: string, name: string, claims: string[], uid = `pod-uid-${namespace}-${name}`): WirePod {
  return {
    metadata: { namespace, name, uid },
    spec: {
      containers: [{ name: "c", image: "busybox" }],
      volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
    },
  };
}
