import type { WireVolume } from "@nls/api";
import { claimKey, type ObjectLookup } from "../request.js";

/**
 * Whether a pod being created has local storage, so that it must go through the extender: the
 * admission webhook's decision, from the extender's informer caches (never an API call). Pure.
 *
 * A pod is marked when any of its claims is, or may be, ours. What the caches cannot tell yet counts as
 * ours — a PVC not seen (created after the pod, or a watch event still on its way), a class not seen, a
 * bound PV not seen, an ephemeral volume template that leaves the class to the cluster default: a
 * marked pod without local claims only costs an extender call that lets it pass, while an unmarked pod
 * with a local claim would be placed without the capacity check.
 */

export interface LocalStorageVerdict {
  mark: boolean;
  /** One line per claim volume: why it is or is not ours (for the log). */
  reasons: string[];
}

export interface PodVolumesAtAdmission {
  spec?: { volumes?: WireVolume[] | null } | null;
}

export function localStorageVerdict(
  pod: PodVolumesAtAdmission,
  namespace: string,
  lookup: ObjectLookup,
): LocalStorageVerdict {
  const reasons: string[] = [];
  let mark = false;
  for (const volume of pod.spec?.volumes ?? []) {
    const verdict = volumeVerdict(volume, namespace, lookup);
    if (!verdict) continue;
    mark ||= verdict.ours;
    reasons.push(verdict.why);
  }
  return { mark, reasons };
}

function volumeVerdict(
  volume: WireVolume,
  namespace: string,
  lookup: ObjectLookup,
): { ours: boolean; why: string } | undefined {
  const claimName = volume.persistentVolumeClaim?.claimName;
  if (claimName) return claimVerdict(namespace, claimName, lookup);
  if (!volume.ephemeral) return undefined;
  const className = volume.ephemeral.volumeClaimTemplate?.spec?.storageClassName;
  const what = `ephemeral volume ${volume.name ?? "?"}`;
  // No class: the API server gives its claim the default class when the ephemeral volume controller
  // creates it, and which class that is can change until then.
  if (className === undefined || className === null) return { ours: true, why: `${what}: default class` };
  return classVerdict(what, className, lookup);
}

function claimVerdict(namespace: string, name: string, lookup: ObjectLookup): { ours: boolean; why: string } {
  const what = `pvc ${claimKey(namespace, name)}`;
  const pvc = lookup.pvc(namespace, name);
  if (!pvc) return { ours: true, why: `${what}: not seen yet` };
  const volumeName = pvc.spec?.volumeName;
  if (volumeName) {
    const pv = lookup.pv(volumeName);
    if (!pv) return { ours: true, why: `${what}: bound to ${volumeName}, not seen yet` };
    return pv.local
      ? { ours: true, why: `${what}: bound to local volume ${volumeName}` }
      : { ours: false, why: `${what}: bound to volume ${volumeName} of another driver` };
  }
  const className = pvc.spec?.storageClassName;
  // No class at all: waiting for a default class to be assigned to it (which may be ours).
  if (className === undefined || className === null) return { ours: true, why: `${what}: no class yet` };
  // "" asks for a pre-provisioned volume without a class: nothing for the extender to decide until bound.
  if (className === "") return { ours: false, why: `${what}: no class (static binding)` };
  return classVerdict(what, className, lookup);
}

function classVerdict(what: string, className: string, lookup: ObjectLookup): { ours: boolean; why: string } {
  if (!lookup.hasClass(className)) return { ours: true, why: `${what}: class ${className} not seen yet` };
  return lookup.localClass(className)
    ? { ours: true, why: `${what}: local class ${className}` }
    : { ours: false, why: `${what}: class ${className} of another provisioner` };
}
