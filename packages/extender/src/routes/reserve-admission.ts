import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { ANNOTATION_SELECTED_NODE, podClaimNames, type PodVolumes } from "@nls/api";
import type { LocalClass } from "../request.js";
import { HttpError } from "./body.js";

/**
 * Who may have the reserve route act: it records a lasting allocation and annotates the PVC, so it
 * acts only for what kube-scheduler has set in motion — a PVC that exists, is still pending, carries
 * `volume.kubernetes.io/selected-node` naming the node asked for, and is used by a pod that is waiting
 * to be bound. Anything else is refused with 409 before anything is changed. (Whether the caller may
 * call at all is decided before, by the route's authentication.)
 */

/** An unscheduled pod as the API lists it: what tells whether it uses a PVC and still waits. */
export interface PendingPod extends PodVolumes {
  metadata?: { name?: string; deletionTimestamp?: Date | string };
  spec?: PodVolumes["spec"] & { nodeName?: string };
  status?: { phase?: string };
}

/** The unscheduled pods (`spec.nodeName` empty) of a namespace, read from the API when asked. */
export interface PendingPods {
  inNamespace(namespace: string): Promise<PendingPod[]>;
}

const refusedStatus = 409;

/** Why the reserve route may not act for `pvc` on `nodeName`, or undefined when it may. */
export function claimRefusal(pvc: V1PersistentVolumeClaim, key: string, nodeName: string): string | undefined {
  if (pvc.metadata?.deletionTimestamp) return `pvc ${key} is being deleted`;
  if (pvc.spec?.volumeName) return `pvc ${key} is already bound to volume ${pvc.spec.volumeName}`;
  const phase = pvc.status?.phase;
  if (phase && phase !== "Pending") return `pvc ${key} is ${phase}, not Pending`;
  const selected = pvc.metadata?.annotations?.[ANNOTATION_SELECTED_NODE];
  if (!selected) return `pvc ${key} has no ${ANNOTATION_SELECTED_NODE} annotation: no node was chosen for it`;
  if (selected !== nodeName) return `pvc ${key} is selected for node ${selected}, not ${nodeName}`;
  return undefined;
}

/** Why the query contradicts the PVC's StorageClass (open-local's driver passes the class's own). */
export function parameterRefusal(
  cls: LocalClass | undefined,
  key: string,
  volumeType: string | undefined,
  vgName: string | undefined,
): string | undefined {
  if (!cls) return undefined;
  if (volumeType !== undefined && volumeType !== cls.volumeType) {
    return `pvc ${key}: volumeType ${volumeType} contradicts its StorageClass ${cls.name} (${cls.volumeType})`;
  }
  if (vgName !== undefined && cls.vgName !== undefined && vgName !== cls.vgName) {
    return `pvc ${key}: vgName ${vgName} contradicts its StorageClass ${cls.name} (${cls.vgName})`;
  }
  return undefined;
}

/** Why no pod waiting to be scheduled uses the PVC `claimName`, given its namespace's unscheduled pods. */
export function podRefusal(pods: PendingPod[], key: string, claimName: string): string | undefined {
  const waiting = pods.filter(
    (p) =>
      !p.spec?.nodeName &&
      !p.metadata?.deletionTimestamp &&
      p.status?.phase !== "Succeeded" &&
      p.status?.phase !== "Failed" &&
      podClaimNames(p).includes(claimName),
  );
  return waiting.length > 0 ? undefined : `no pod waiting to be scheduled uses pvc ${key}`;
}

/**
 * The reserve route's check, in order: the PVC's own state (from the cache), the query against its
 * class, then the pods of its namespace (one API list). Throws the 409 that refuses the call.
 */
export async function admitReserve(
  pods: PendingPods,
  pvc: V1PersistentVolumeClaim,
  cls: LocalClass | undefined,
  query: { namespace: string; name: string; key: string; nodeName: string; volumeType?: string; vgName?: string },
): Promise<void> {
  const refusal =
    claimRefusal(pvc, query.key, query.nodeName) ??
    parameterRefusal(cls, query.key, query.volumeType, query.vgName) ??
    podRefusal(await listPods(pods, query.namespace), query.key, query.name);
  if (refusal) throw new HttpError(refusedStatus, `reserve refused: ${refusal}`);
}

async function listPods(pods: PendingPods, namespace: string): Promise<PendingPod[]> {
  try {
    return await pods.inNamespace(namespace);
  } catch (err) {
    // Not "Insufficient": open-local's driver retries on the same node instead of rescheduling.
    throw new HttpError(503, `cannot list the pods of namespace ${namespace}: ${(err as Error).message}`);
  }
}
