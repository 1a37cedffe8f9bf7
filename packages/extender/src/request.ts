import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from "@kubernetes/client-node";
import {
  ANNOTATION_SELECTED_NODE,
  LABEL_HOSTNAME,
  PROVISIONER,
  SC_PARAM_MEDIA_TYPE,
  SC_PARAM_VG_NAME,
  SC_PARAM_VOLUME_TYPE,
  DEFAULT_EXTENT_BYTES,
  roundToExtents,
  tryParseBytes,
  type WirePod,
} from "@nls/api";
import type { UnitKind } from "./node-view.js";

/** A StorageClass of ours, with the parameters the extender reads. */
export interface LocalClass {
  name: string;
  volumeType: string;
  vgName?: string;
  mediaType?: string;
}

/** What a pod's request reads of the PV its claim is bound to (the store's `PvRecord` has more). */
export interface BoundVolume {
  /** Provisioned by open-local's CSI driver. */
  readonly local: boolean;
  /** A local PV's node. */
  readonly node: string | undefined;
}

/** Read-only access to the informer caches; never an API call. */
export interface ObjectLookup {
  pvc(namespace: string, name: string): V1PersistentVolumeClaim | undefined;
  pv(name: string): BoundVolume | undefined;
  localClass(name: string): LocalClass | undefined;
  /** Whether a StorageClass of that name is known at all (local or not). */
  hasClass(name: string): boolean;
}

/**
 * An LVM request's `bytes` are what the PVC asks for; the VG it goes to gives it whole extents of its
 * own size (`Placer` rounds per VG), so the same request may take more in one VG than in another.
 */
export type VolumeRequest =
  | { kind: "lvm"; claim: string; bytes: number; vgName?: string }
  | { kind: UnitKind; claim: string; bytes: number; mediaType?: string };

/**
 * The bytes an LVM volume of `bytes` takes where its VG's extent size is not known here (a PV's or an
 * allocation record's bytes, read without a node view): whole extents of vgcreate's default 4 MiB, so a
 * VG gives a 1000M volume 239 extents, not 238.4. In a VG with larger extents the LV the agent reports
 * holds the rest, and the extender counts that excess (`lvAccounting`).
 */
export const lvmBytes = (bytes: number): number => roundToExtents(bytes, DEFAULT_EXTENT_BYTES);

/** What a volume of a local class asks for on a node (LVM the default, as open-local). */
export function volumeRequest(cls: LocalClass, claim: string, bytes: number): VolumeRequest | { invalid: string } {
  switch (cls.volumeType) {
    case "LVM":
      return { kind: "lvm", claim, bytes, vgName: cls.vgName };
    case "Device":
      return { kind: "device", claim, bytes, mediaType: cls.mediaType };
    case "MountPoint":
      return { kind: "mountpoint", claim, bytes, mediaType: cls.mediaType };
    default:
      return { invalid: `unknown volumeType ${JSON.stringify(cls.volumeType)} in class ${cls.name}` };
  }
}

export interface PodStorage {
  /** Unbound, unscheduled local PVCs to place, largest first (the order placement searches in). */
  requests: VolumeRequest[];
  /** Nodes the pod is tied to by bound local PVs or already-selected PVCs: `node → why`. */
  pins: Map<string, string>;
  /** Problems that make every node fail (bad size, unsupported volume type), one line each. */
  invalid: string[];
  /**
   * Claims kube-scheduler already sees (it checks that a pod's PVCs exist before asking) but this
   * cache does not hold yet: every node fails until it does, with a reason saying so.
   */
  unseen: string[];
  /** Every local PVC of the pod (`ns/name`), so its own tentative reservations are not held against it. */
  claims: string[];
}

export const claimKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The local class of a StorageClass, or undefined when it belongs to another provisioner. */
export function localClassOf(sc: V1StorageClass): LocalClass | undefined {
  if (sc.provisioner !== PROVISIONER || !sc.metadata?.name) return undefined;
  const p = sc.parameters ?? {};
  const vgName = p[SC_PARAM_VG_NAME] || undefined;
  const mediaType = p[SC_PARAM_MEDIA_TYPE] || undefined;
  return { name: sc.metadata.name, volumeType: p[SC_PARAM_VOLUME_TYPE] || "LVM", vgName, mediaType };
}

/** Requested size of a PVC: `requests.storage`, else `limits.storage` (as Kubernetes does). */
export function pvcSize(pvc: V1PersistentVolumeClaim): { ok: true; bytes: number } | { ok: false; error: string } {
  const res = pvc.spec?.resources;
  const q = res?.requests?.storage ?? res?.limits?.storage;
  if (q === undefined) return { ok: false, error: "no storage request" };
  const parsed = tryParseBytes(q);
  if (!parsed.ok) return parsed;
  if (parsed.bytes <= 0) return { ok: false, error: `storage request ${JSON.stringify(q)} must be positive` };
  return parsed;
}

/** The node a local PV lives on (`kubernetes.io/hostname In [node]` node affinity). */
export function pvNode(pv: V1PersistentVolume): string | undefined {
  for (const term of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of term.matchExpressions ?? []) {
      if (e.key === LABEL_HOSTNAME && e.operator === "In" && e.values?.length === 1) return e.values[0];
    }
  }
  return undefined;
}

export const isLocalPv = (pv: V1PersistentVolume): boolean => pv.spec?.csi?.driver === PROVISIONER;

/**
 * Turns a pod into the local storage it asks for: its PVCs and generic ephemeral volumes. PVCs of a
 * missing class (open-local #211) or of another provisioner are not ours and never block the pod; a PVC
 * the cache does not hold yet blocks it until the cache catches up (`unseen`).
 */
export function podStorage(pod: WirePod, lookup: ObjectLookup): PodStorage {
  const out: PodStorage = { requests: [], pins: new Map(), invalid: [], unseen: [], claims: [] };
  const namespace = pod.metadata.namespace || "default";
  const seen = new Set<string>();
  for (const volume of pod.spec?.volumes ?? []) {
    const template = volume.ephemeral?.volumeClaimTemplate;
    // A generic ephemeral volume's PVC is named after the pod and the volume (created by the
    // ephemeral volume controller, owned by the pod).
    const claimName =
      volume.persistentVolumeClaim?.claimName ?? (template && volume.name ? `${pod.metadata.name}-${volume.name}` : "");
    if (!claimName || seen.has(claimName)) continue;
    seen.add(claimName);
    const key = claimKey(namespace, claimName);
    const pvc = lookup.pvc(namespace, claimName);
    if (!pvc) {
      // kube-scheduler does not ask an extender about a pod whose PVC does not exist: this cache is
      // behind. An ephemeral volume whose template names a class of another provisioner is not ours.
      const templateClass = template?.spec?.storageClassName;
      if (!(templateClass && lookup.hasClass(templateClass) && !lookup.localClass(templateClass))) {
        out.unseen.push(`pvc ${key} is not in the extender's cache yet; retrying`);
      }
      continue;
    }
    const className = pvc.spec?.storageClassName;
    const volumeName = pvc.spec?.volumeName;
    if (volumeName) {
      const pv = lookup.pv(volumeName);
      if (!pv?.local) continue;
      const node = pv.node;
      if (node) out.pins.set(node, `pvc ${key} is bound to local volume ${volumeName} on node ${node}`);
      out.claims.push(key);
      continue;
    }
    const cls = className ? lookup.localClass(className) : undefined;
    if (!cls) continue;
    out.claims.push(key);
    const selected = pvc.metadata?.annotations?.[ANNOTATION_SELECTED_NODE];
    if (selected) {
      // Already committed on that node by the ledger; only that node can provision it.
      out.pins.set(selected, `pvc ${key} is already being provisioned on node ${selected}`);
      continue;
    }
    const size = pvcSize(pvc);
    if (!size.ok) {
      out.invalid.push(`pvc ${key}: ${size.error}`);
      continue;
    }
    const request = volumeRequest(cls, key, size.bytes);
    if ("invalid" in request) out.invalid.push(`pvc ${key}: ${request.invalid}`);
    else out.requests.push(request);
  }
  out.requests.sort((a, b) => b.bytes - a.bytes || (a.claim < b.claim ? -1 : 1));
  return out;
}

/** True when the pod has nothing for the extender to decide: every node passes at once. */
export const isPassThrough = (s: PodStorage): boolean =>
  s.requests.length === 0 && s.pins.size === 0 && s.invalid.length === 0 && s.unseen.length === 0;
