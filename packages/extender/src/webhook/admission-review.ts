import { HttpError } from "../routes/body.js";
import type { JsonPatchOp } from "./mark-patch.js";

/**
 * The admission.k8s.io/v1 AdmissionReview the API server sends a mutating webhook, and the answer.
 * Pure: a body that is not a review of a pod's creation is a 400, never a guess.
 */

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

export interface PodAdmission {
  uid: string;
  namespace: string;
  operation: string;
  /** The pod as it will be created (the webhook only reads it). */
  pod: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function parsePodAdmission(body: unknown): PodAdmission {
  if (!isObject(body)) throw new HttpError(400, "expected an AdmissionReview object");
  if (body.apiVersion !== ADMISSION_API_VERSION || body.kind !== "AdmissionReview") {
    throw new HttpError(400, `expected apiVersion ${ADMISSION_API_VERSION}, kind AdmissionReview`);
  }
  const request = body.request;
  if (!isObject(request)) throw new HttpError(400, "AdmissionReview has no request");
  const { uid, namespace, operation, object } = request;
  if (typeof uid !== "string" || uid === "") throw new HttpError(400, "request.uid must be a non-empty string");
  if (typeof operation !== "string") throw new HttpError(400, "request.operation must be a string");
  const kind = request.kind;
  if (!isObject(kind) || kind.group !== "" || kind.kind !== "Pod") {
    throw new HttpError(400, "request.kind must be the core Pod kind");
  }
  if (!isObject(object)) throw new HttpError(400, "request.object must be the pod");
  const podNamespace = isObject(object.metadata) ? object.metadata.namespace : undefined;
  const ns = typeof namespace === "string" && namespace ? namespace : podNamespace;
  if (typeof ns !== "string" || ns === "") throw new HttpError(400, "request.namespace must name the pod's namespace");
  return { uid, namespace: ns, operation, pod: object };
}

/** Allows the pod, with the patch when there is one. */
export function admissionResponse(uid: string, patch: readonly JsonPatchOp[]): Record<string, unknown> {
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: "AdmissionReview",
    response: {
      uid,
      allowed: true,
      ...(patch.length > 0
        ? { patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") }
        : {}),
    },
  };
}
