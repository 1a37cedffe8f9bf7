import { LOCAL_STORAGE_RESOURCE } from "@nls/api";

/** One RFC 6902 operation, as an AdmissionReview response carries them (`patchType: JSONPatch`). */
export interface JsonPatchOp {
  op: "add";
  path: string;
  value: unknown;
}

export interface PodContainersAtAdmission {
  spec?: {
    containers?: Array<{
      resources?: { requests?: Record<string, unknown> | null; limits?: Record<string, unknown> | null } | null;
    }> | null;
  } | null;
}

/** RFC 6901: `~` and `/` inside a key. */
const pointerKey = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

/**
 * The patch that makes the pod request (and limit: an extended resource cannot be overcommitted) one
 * `nls.csi.aliyun.com/local-storage` on its first container — exactly what the MutatingAdmissionPolicy
 * of deploy/components/managed-resources writes. Empty when a container already requests it (the pod
 * was marked before) or the pod has no container (the API server refuses it anyway). Pure.
 */
export function markPatch(pod: PodContainersAtAdmission): JsonPatchOp[] {
  const containers = pod.spec?.containers ?? [];
  const first = containers[0];
  if (!first) return [];
  const already = containers.some(
    (c) =>
      c.resources?.requests?.[LOCAL_STORAGE_RESOURCE] !== undefined ||
      c.resources?.limits?.[LOCAL_STORAGE_RESOURCE] !== undefined,
  );
  if (already) return [];
  const base = "/spec/containers/0/resources";
  const one = { [LOCAL_STORAGE_RESOURCE]: "1" };
  if (!first.resources) return [{ op: "add", path: base, value: { requests: one, limits: one } }];
  return (["requests", "limits"] as const).map((field) =>
    first.resources![field]
      ? { op: "add", path: `${base}/${field}/${pointerKey(LOCAL_STORAGE_RESOURCE)}`, value: "1" }
      : { op: "add", path: `${base}/${field}`, value: one },
  );
}
