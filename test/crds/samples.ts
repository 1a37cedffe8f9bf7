import type { NodeLocalStorage, NodeLocalStorageInitConfig } from "@nls/api";

/** Sample objects: typed by `@nls/api` at compile time, validated against the CRD schema at test time. */

export const seedNls: NodeLocalStorage = {
  apiVersion: "csi.aliyun.com/v1alpha1",
  kind: "NodeLocalStorage",
  metadata: { name: "node-1" },
  spec: {
    nodeName: "node-1",
    listConfig: {
      devices: { include: ["/dev/vd[a-d]+"], exclude: ["/dev/vda", "/dev/vdb"] },
      vgs: { include: ["open-local-pool-[0-9]+"] },
      mountPoints: { include: ["/mnt/open-local/disk-[0-9]+"] },
    },
    resourceToBeInited: {
      vgs: [{ name: "open-local-pool-0", devices: ["/dev/vdb3"] }],
      mountpoints: [{ path: "/mnt/open-local/disk-1", device: "/dev/vdd", fsType: "ext4", options: ["defaults"] }],
    },
  },
  status: {
    nodeStorageInfo: {
      deviceInfo: [
        { name: "/dev/vda", mediaType: "ssd", total: 107374182400, readOnly: false, condition: "DiskReady" },
        { name: "/dev/vdc", mediaType: "hdd", total: 536870912000, readOnly: false, condition: "DiskReady" },
      ],
      volumeGroups: [
        {
          name: "open-local-pool-0",
          physicalVolumes: ["/dev/vdb3"],
          logicalVolumes: [
            {
              name: "local-pv-1",
              vgname: "open-local-pool-0",
              total: 10737418240,
              readOnly: false,
              condition: "DiskReady",
            },
          ],
          total: 107369988096,
          available: 96632569856,
          allocatable: 107369988096,
          condition: "DiskReady",
        },
      ],
      mountPoints: [
        {
          name: "/mnt/open-local/disk-1",
          total: 105555197952,
          available: 99000000000,
          fsType: "ext4",
          isBind: false,
          options: ["rw", "relatime"],
          device: "/dev/vdd",
          readOnly: false,
          condition: "DiskReady",
        },
      ],
      phase: "Running",
      state: {
        type: "DiskReady",
        status: "True",
        lastHeartbeatTime: "2026-11-23T10:00:00Z",
        lastTransitionTime: "2026-11-23T10:00:00Z",
      },
    },
    filteredStorageInfo: {
      volumeGroups: ["open-local-pool-0"],
      devices: ["/dev/vdc", "/dev/vdd"],
      mountPoints: ["/mnt/open-local/disk-1"],
      updateStatusInfo: { lastUpdateTime: "2026-11-23T10:00:00Z", updateStatus: "accepted" },
    },
    summary: {
      volumeGroups: 1,
      devices: 2,
      allocatable: "99996Mi",
      allocatableBytes: 104853504000,
      free: "89756Mi",
      freeBytes: 94116085760,
    },
  },
};

export const seedInitConfig: NodeLocalStorageInitConfig = {
  apiVersion: "csi.aliyun.com/v1alpha1",
  kind: "NodeLocalStorageInitConfig",
  metadata: { name: "open-local" },
  spec: {
    globalConfig: {
      listConfig: {
        devices: { include: ["/dev/vd[a-d]+"], exclude: ["/dev/vda", "/dev/vdb"] },
        vgs: { include: ["open-local-pool-[0-9]+"] },
      },
      resourceToBeInited: { vgs: [{ name: "open-local-pool-0", devices: ["/dev/vdb3"] }] },
    },
    nodesConfig: [
      {
        selector: { matchExpressions: [{ key: "node.kubernetes.io/instance-type", operator: "In", values: ["nvme"] }] },
        listConfig: { vgs: { include: ["nvme-pool"] } },
        resourceToBeInited: { vgs: [{ name: "nvme-pool", devices: ["/dev/nvme0n1"] }] },
      },
    ],
  },
};

/** Objects an open-local agent writes: Go's omitempty drops false and zero fields. */
export const openLocalWrittenNls = {
  apiVersion: "csi.aliyun.com/v1alpha1",
  kind: "NodeLocalStorage",
  metadata: { name: "node-2" },
  spec: { nodeName: "node-2" },
  status: {
    nodeStorageInfo: {
      deviceInfo: [{ name: "/dev/vdb", mediaType: "hdd", total: 1024, condition: "DiskReady" }],
      volumeGroups: [{ name: "pool", total: 1024, available: 1024, allocatable: 1024, condition: "DiskReady" }],
      phase: "Running",
      state: { type: "DiskReady", status: "True" },
    },
    filteredStorageInfo: { updateStatusInfo: { updateStatus: "accepted" } },
  },
};
