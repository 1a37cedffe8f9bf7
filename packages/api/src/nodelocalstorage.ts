import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { VG_NAME_MAX_LENGTH, VG_NAME_PATTERN } from "./lvm-names.js";
import { Bytes, DateTime, StringEnum, StringList, StringMap } from "./schema-helpers.js";

/**
 * NodeLocalStorage (`nodelocalstorages.csi.aliyun.com/v1alpha1`), field for field as open-local
 * defines it (JSON names included), so objects written by either system read the same.
 * The schemas here are the single source of truth: the CRD in `crds/` is generated from them.
 */

export const MEDIA_TYPES = ["hdd", "ssd"] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export const DISK_CONDITIONS = ["DiskReady", "DiskFull", "DiskFault"] as const;
export type DiskCondition = (typeof DISK_CONDITIONS)[number];

export const PHASES = ["Pending", "Running", "Terminated"] as const;
export type Phase = (typeof PHASES)[number];

export const UPDATE_STATUSES = ["pending", "accepted", "failed"] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

export const CONDITION_STATUSES = ["True", "False", "Unknown"] as const;

export const IncludeExcludeSchema = Type.Object({
  include: Type.Optional(StringList(50, "RE2 patterns; a candidate is selected when one matches it in full")),
  exclude: Type.Optional(StringList(50, "RE2 patterns; removes selected candidates that one matches in full")),
});
export type IncludeExclude = Static<typeof IncludeExcludeSchema>;

export const ListConfigSchema = Type.Object({
  devices: Type.Optional(IncludeExcludeSchema),
  vgs: Type.Optional(IncludeExcludeSchema),
  mountPoints: Type.Optional(IncludeExcludeSchema),
});
export type ListConfig = Static<typeof ListConfigSchema>;

export const VgToBeInitedSchema = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: VG_NAME_MAX_LENGTH,
    pattern: VG_NAME_PATTERN,
    description: "VG name by LVM's rules: letters, digits and + _ . -, not starting with -, not . or ..",
  }),
  devices: StringList(50),
});
export type VgToBeInited = Static<typeof VgToBeInitedSchema>;

export const MountPointToBeInitedSchema = Type.Object({
  path: Type.String({ minLength: 1 }),
  device: Type.String({ minLength: 1 }),
  fsType: Type.Optional(Type.String({ default: "ext4" })),
  options: Type.Optional(StringList()),
});
export type MountPointToBeInited = Static<typeof MountPointToBeInitedSchema>;

export const ResourceToBeInitedSchema = Type.Object({
  vgs: Type.Optional(Type.Array(VgToBeInitedSchema, { maxItems: 50 })),
  mountpoints: Type.Optional(Type.Array(MountPointToBeInitedSchema, { maxItems: 50 })),
});
export type ResourceToBeInited = Static<typeof ResourceToBeInitedSchema>;

/** Kept for schema compatibility with open-local; nls ignores it. */
export const SpdkConfigSchema = Type.Object({
  deviceType: Type.Optional(Type.String()),
  rpcSocket: Type.Optional(Type.String()),
});
export type SpdkConfig = Static<typeof SpdkConfigSchema>;

/** What a node's storage is configured with: shared by the NLS spec and the init config's entries. */
export const StorageConfigFields = {
  listConfig: Type.Optional(ListConfigSchema),
  resourceToBeInited: Type.Optional(ResourceToBeInitedSchema),
  spdkConfig: Type.Optional(SpdkConfigSchema),
};

export const NodeLocalStorageSpecSchema = Type.Object({
  nodeName: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  ...StorageConfigFields,
});
export type NodeLocalStorageSpec = Static<typeof NodeLocalStorageSpecSchema>;

export const DeviceInfoSchema = Type.Object({
  name: Type.String({ description: "device path, e.g. /dev/vdb" }),
  mediaType: StringEnum(MEDIA_TYPES),
  total: Bytes("size in bytes"),
  readOnly: Type.Boolean(),
  condition: StringEnum(DISK_CONDITIONS),
  inUse: Type.Optional(
    StringList(
      undefined,
      "nls addition: why the device is not free (what holds or uses it, or which fact about it could not be read); absent when free. A device in use is never offered for a Device volume nor initialised",
    ),
  ),
});
export type DeviceInfo = Static<typeof DeviceInfoSchema>;

export const LogicalVolumeSchema = Type.Object({
  name: Type.String(),
  vgname: Type.String(),
  total: Bytes(),
  readOnly: Type.Boolean(),
  condition: StringEnum(DISK_CONDITIONS),
  managed: Type.Optional(
    Type.Boolean({
      description:
        "nls addition: true when the LV's extents count in the VG's allocatable (a storage-system LV by name, not a thin volume), so a scheduler must subtract it itself unless a PV accounts for it. Absent in open-local's status: readers apply open-local's default rule (name starts with local or csi-)",
    }),
  ),
});
export type LogicalVolume = Static<typeof LogicalVolumeSchema>;

export const VolumeGroupSchema = Type.Object({
  name: Type.String(),
  physicalVolumes: StringList(),
  logicalVolumes: Type.Array(LogicalVolumeSchema),
  total: Bytes("VG size in bytes"),
  available: Bytes("free bytes (unallocated extents)"),
  allocatable: Bytes("bytes the storage system may use: total minus unmanaged LVs, capped by storage-reserved"),
  condition: StringEnum(DISK_CONDITIONS),
  extentSize: Type.Optional(
    Bytes(
      "nls addition: the VG's extent size in bytes (LVM allocates every LV in whole extents). Absent in open-local's status: readers assume 4 MiB, vgcreate's default",
    ),
  ),
});
export type VolumeGroup = Static<typeof VolumeGroupSchema>;

export const MountPointInfoSchema = Type.Object({
  name: Type.String({ description: "mount path" }),
  total: Bytes(),
  available: Bytes(),
  fsType: Type.String(),
  isBind: Type.Boolean(),
  options: StringList(),
  device: Type.String(),
  readOnly: Type.Boolean(),
  condition: StringEnum(DISK_CONDITIONS),
});
export type MountPointInfo = Static<typeof MountPointInfoSchema>;

export const StorageStateSchema = Type.Object({
  type: Type.Optional(Type.String()),
  status: Type.Optional(StringEnum(CONDITION_STATUSES)),
  lastHeartbeatTime: Type.Optional(DateTime()),
  lastTransitionTime: Type.Optional(DateTime()),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});
export type StorageState = Static<typeof StorageStateSchema>;

export const NodeStorageInfoSchema = Type.Object({
  deviceInfo: Type.Optional(Type.Array(DeviceInfoSchema)),
  volumeGroups: Type.Optional(Type.Array(VolumeGroupSchema)),
  mountPoints: Type.Optional(Type.Array(MountPointInfoSchema)),
  phase: Type.Optional(StringEnum(PHASES)),
  state: Type.Optional(StorageStateSchema),
});
export type NodeStorageInfo = Static<typeof NodeStorageInfoSchema>;

export const UpdateStatusInfoSchema = Type.Object({
  lastUpdateTime: Type.Optional(DateTime()),
  updateStatus: Type.Optional(StringEnum(UPDATE_STATUSES)),
  reason: Type.Optional(Type.String()),
});
export type UpdateStatusInfo = Static<typeof UpdateStatusInfoSchema>;

export const FilteredStorageInfoSchema = Type.Object({
  volumeGroups: Type.Optional(StringList()),
  devices: Type.Optional(StringList()),
  mountPoints: Type.Optional(StringList()),
  updateStatusInfo: Type.Optional(UpdateStatusInfoSchema),
});
export type FilteredStorageInfo = Static<typeof FilteredStorageInfoSchema>;

/**
 * nls addition (not in open-local): a digest for `kubectl get nls` printer columns, which cannot
 * count arrays or format bytes themselves.
 */
export const StorageSummarySchema = Type.Object({
  volumeGroups: Type.Integer({ minimum: 0, description: "number of selected VGs" }),
  devices: Type.Integer({ minimum: 0, description: "number of selected devices that are free (offered)" }),
  devicesInUse: Type.Optional(
    Type.String({
      description: "selected devices that are not offered because they are in use, each with why; absent when none",
    }),
  ),
  allocatable: Type.String({ description: "allocatable bytes of the selected VGs, as a quantity (e.g. 100Gi)" }),
  allocatableBytes: Bytes(),
  free: Type.Optional(
    Type.String({
      description:
        "what LVM can still give new volumes in the selected VGs, as a quantity: allocatable minus the storage system's own LVs. Volumes the scheduler has promised but not created yet are not subtracted (kubectl nls capacity shows them)",
    }),
  ),
  freeBytes: Type.Optional(Bytes()),
});
export type StorageSummary = Static<typeof StorageSummarySchema>;

/** A VG the agent has announced it will create, on the devices it resolved (nls addition). */
export const VgIntentSchema = Type.Object({
  name: Type.String(),
  devices: StringList(undefined, "device paths as the agent resolved them (an alias is stored as its device)"),
});
export type VgIntent = Static<typeof VgIntentSchema>;

/**
 * nls addition: what the agent must remember across restarts and disk changes, kept in the status
 * because the status is the agent's only durable record.
 */
export const InitJournalSchema = Type.Object({
  seenVolumeGroups: StringList(
    undefined,
    "every VG name the agent has seen on this node; a VG of such a name is never created again (remove a name to allow it)",
  ),
  creating: Type.Optional(
    Type.Array(VgIntentSchema, {
      description:
        "VGs the agent records before running vgcreate; PV labels an interrupted vgcreate left on exactly these devices are its own and are finished",
    }),
  ),
});
export type InitJournal = Static<typeof InitJournalSchema>;

export const NodeLocalStorageStatusSchema = Type.Object({
  nodeStorageInfo: Type.Optional(NodeStorageInfoSchema),
  filteredStorageInfo: Type.Optional(FilteredStorageInfoSchema),
  summary: Type.Optional(StorageSummarySchema),
  journal: Type.Optional(InitJournalSchema),
});
export type NodeLocalStorageStatus = Static<typeof NodeLocalStorageStatusSchema>;

/** The subset of ObjectMeta nls reads and writes; the API server owns the rest (so any other field is fine). */
export const ObjectMetaSchema = Type.Object(
  {
    name: Type.Optional(Type.String()),
    namespace: Type.Optional(Type.String()),
    uid: Type.Optional(Type.String()),
    resourceVersion: Type.Optional(Type.String()),
    generation: Type.Optional(Type.Integer()),
    creationTimestamp: Type.Optional(Type.String()),
    labels: Type.Optional(StringMap()),
    annotations: Type.Optional(StringMap()),
    ownerReferences: Type.Optional(
      Type.Array(
        Type.Object({
          apiVersion: Type.String(),
          kind: Type.String(),
          name: Type.String(),
          uid: Type.String(),
          controller: Type.Optional(Type.Boolean()),
          blockOwnerDeletion: Type.Optional(Type.Boolean()),
        }),
      ),
    ),
  },
  { additionalProperties: true },
);
export type ObjectMeta = Static<typeof ObjectMetaSchema>;

/**
 * A whole object as a person writes it (a manifest, `kubectl get -o yaml`), for checking such input:
 * the spec as `spec` describes it; the status, which only the agent writes, is not looked at.
 */
export const objectWithSpec = <S extends TSchema>(spec: S) =>
  Type.Object({
    apiVersion: Type.Optional(Type.String()),
    kind: Type.Optional(Type.String()),
    metadata: Type.Optional(ObjectMetaSchema),
    spec: Type.Optional(spec),
    status: Type.Optional(Type.Unknown()),
  });
export const NodeLocalStorageObjectSchema = objectWithSpec(NodeLocalStorageSpecSchema);

export interface NodeLocalStorage {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: NodeLocalStorageSpec;
  status?: NodeLocalStorageStatus;
}
