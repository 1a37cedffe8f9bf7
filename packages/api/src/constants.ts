/** API group, version and names shared by the CRDs, the agent and the extender (open-local compatible). */
export const GROUP = "csi.aliyun.com";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const NLS_KIND = "NodeLocalStorage";
export const NLS_PLURAL = "nodelocalstorages";
export const NLS_SINGULAR = "nodelocalstorage";
export const NLS_SHORT_NAME = "nls";

export const NLSC_KIND = "NodeLocalStorageInitConfig";
export const NLSC_PLURAL = "nodelocalstorageinitconfigs";
export const NLSC_SINGULAR = "nodelocalstorageinitconfig";
export const NLSC_SHORT_NAME = "nlsc";
/** The NodeLocalStorageInitConfig that open-local's controller (and the nls agent) reads by default. */
export const DEFAULT_INIT_CONFIG_NAME = "open-local";

/** The CSI driver / StorageClass provisioner of local volumes. */
export const PROVISIONER = "local.csi.aliyun.com";

/** StorageClass parameters. */
export const SC_PARAM_VOLUME_TYPE = "volumeType";
export const SC_PARAM_VG_NAME = "vgName";
export const SC_PARAM_MEDIA_TYPE = "mediaType";

/** NLS annotation: JSON `{"<vg>": "<quantity>" | "<n>%"}` capping a VG's allocatable bytes. */
export const ANNOTATION_STORAGE_RESERVED = "csi.aliyun.com/storage-reserved";
/** PV annotation written by open-local's CSI driver: JSON `{vgName, deviceName, volumeType}`. */
export const ANNOTATION_PV_ALLOCATED = "csi.aliyun.com/pv-allocated";
/** Written by kube-scheduler on a WaitForFirstConsumer PVC in PreBind. */
export const ANNOTATION_SELECTED_NODE = "volume.kubernetes.io/selected-node";
/** Written by the extender's reserve route on the PVC so a restarted extender rebuilds its ledger. */
export const ANNOTATION_NLS_ALLOCATION = "nls.csi.aliyun.com/allocation";

/** Node label whose value PV node affinity uses. */
export const LABEL_HOSTNAME = "kubernetes.io/hostname";

/** LVs whose names start with one of these are managed by the storage system (count as allocatable). */
export const DEFAULT_LV_PREFIX = "local";
export const CSI_LV_PREFIX = "csi-";

/**
 * The namespace of the agents' Leases unless configured otherwise: nls' own, holding nothing but them
 * (as kubelets' node Leases live in `kube-node-lease`), so an agent's Lease rights there reach no
 * leader-election Lease of the control plane.
 */
export const DEFAULT_LEASE_NAMESPACE = "nls-node-lease";
/** Lease names are `nls-agent-<node>` so they never collide with kubelet's node leases. */
export const LEASE_NAME_PREFIX = "nls-agent-";
export const leaseNameForNode = (node: string): string => `${LEASE_NAME_PREFIX}${node}`;

export const EXTENDER_DEFAULT_PORT = 23000;
/** The extender's debug views (`GET /cache`): loopback by default, a Service port only when exposed. */
export const EXTENDER_DEBUG_PORT = 23001;

/**
 * The extended resource that marks a pod with local storage: kube-scheduler, with the extender
 * registered for it in `managedResources`, calls the extender only for pods that request it. No node
 * advertises it (the kubelet drops it before admission).
 */
export const LOCAL_STORAGE_RESOURCE = "nls.csi.aliyun.com/local-storage";
