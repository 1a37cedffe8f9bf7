/**
 * kube-scheduler extender wire types (k8s.io/kube-scheduler/extender/v1). The Go structs carry no json
 * tags, so the top-level keys are PascalCase; the Pod and Nodes inside are ordinary Kubernetes objects
 * (camelCase). Only the fields nls reads are typed; everything else passes through untouched.
 */

export const MAX_EXTENDER_SCORE = 10;
export const MIN_EXTENDER_SCORE = 0;

export interface WireObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface WireVolume {
  name?: string;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  /** A generic ephemeral volume: its PVC is `<pod name>-<volume name>`, created from the template. */
  ephemeral?: { volumeClaimTemplate?: { spec?: { storageClassName?: string | null; [key: string]: unknown } } };
  [key: string]: unknown;
}

export interface WirePod {
  metadata: WireObjectMeta;
  spec?: { volumes?: WireVolume[]; nodeName?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface WireNode {
  metadata: WireObjectMeta;
  [key: string]: unknown;
}

export interface WireNodeList {
  items: WireNode[];
  [key: string]: unknown;
}

export interface ExtenderArgs {
  Pod: WirePod;
  Nodes?: WireNodeList | null;
  NodeNames?: string[] | null;
}

export type FailedNodesMap = Record<string, string>;

export interface ExtenderFilterResult {
  Nodes?: WireNodeList | null;
  NodeNames?: string[] | null;
  FailedNodes: FailedNodesMap;
  FailedAndUnresolvableNodes: FailedNodesMap;
  Error: string;
}

export interface HostPriority {
  Host: string;
  Score: number;
}
export type HostPriorityList = HostPriority[];

/** The reply of open-local's reserve route (`POST /apis/scheduling/{ns}/persistentvolumeclaims/{name}`). */
export interface ReserveResponse {
  node: string;
  vgName: string;
  device: string;
  disk: string;
  volumeType: string;
  persistentVolumeClaim: string;
}

/** A parsed, validated request: `mode` records which field carried the nodes, so the reply uses it too. */
export type ParsedExtenderArgs =
  | { mode: "names"; pod: WirePod; nodeNames: string[] }
  | { mode: "nodes"; pod: WirePod; nodes: WireNodeList; nodeNames: string[] };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const describe = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** Top-level keys are matched case-insensitively (`Pod`, `pod`, `POD`); a duplicate spelling is an error. */
function foldKeys(body: Record<string, unknown>): ParseResult<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(body)) {
    const k = key.toLowerCase();
    if (out.has(k)) return { ok: false, error: `duplicate key ${JSON.stringify(key)} (keys are case-insensitive)` };
    out.set(k, value);
  }
  return { ok: true, value: out };
}

function validatePod(pod: unknown): string | undefined {
  if (!isObject(pod)) return `Pod must be an object, got ${describe(pod)}`;
  const meta = pod.metadata;
  if (!isObject(meta)) return `Pod.metadata must be an object, got ${describe(meta)}`;
  if (typeof meta.name !== "string" || meta.name === "") return "Pod.metadata.name must be a non-empty string";
  if (meta.namespace !== undefined && typeof meta.namespace !== "string")
    return "Pod.metadata.namespace must be a string";
  if (pod.spec === undefined || pod.spec === null) return undefined;
  if (!isObject(pod.spec)) return `Pod.spec must be an object, got ${describe(pod.spec)}`;
  const volumes = pod.spec.volumes;
  if (volumes === undefined || volumes === null) return undefined;
  if (!Array.isArray(volumes)) return `Pod.spec.volumes must be an array, got ${describe(volumes)}`;
  for (let i = 0; i < volumes.length; i++) {
    const v: unknown = volumes[i];
    if (!isObject(v)) return `Pod.spec.volumes[${i}] must be an object, got ${describe(v)}`;
    const pvc = v.persistentVolumeClaim;
    if (pvc === undefined || pvc === null) continue;
    if (!isObject(pvc)) return `Pod.spec.volumes[${i}].persistentVolumeClaim must be an object`;
    if (typeof pvc.claimName !== "string" || pvc.claimName === "") {
      return `Pod.spec.volumes[${i}].persistentVolumeClaim.claimName must be a non-empty string`;
    }
  }
  return undefined;
}

/**
 * Validates an ExtenderArgs body (already JSON-decoded). Exactly one of `Nodes` / `NodeNames` must be
 * non-null: kube-scheduler sets `NodeNames` when the extender is `nodeCacheCapable`, `Nodes` otherwise.
 */
export function parseExtenderArgs(body: unknown): ParseResult<ParsedExtenderArgs> {
  if (!isObject(body)) return { ok: false, error: `request body must be a JSON object, got ${describe(body)}` };
  const folded = foldKeys(body);
  if (!folded.ok) return folded;
  const keys = folded.value;
  if (!keys.has("pod") || keys.get("pod") === null) return { ok: false, error: "missing Pod" };
  const pod = keys.get("pod");
  const podError = validatePod(pod);
  if (podError) return { ok: false, error: podError };

  const rawNodes = keys.get("nodes") ?? null;
  const rawNames = keys.get("nodenames") ?? null;
  if (rawNodes !== null && rawNames !== null) {
    return {
      ok: false,
      error: "both Nodes and NodeNames are set; exactly one must be (NodeNames when nodeCacheCapable)",
    };
  }
  if (rawNodes === null && rawNames === null) {
    return { ok: false, error: "neither Nodes nor NodeNames is set; exactly one must be" };
  }
  if (rawNames !== null) {
    if (!Array.isArray(rawNames))
      return { ok: false, error: `NodeNames must be an array of strings, got ${describe(rawNames)}` };
    for (let i = 0; i < rawNames.length; i++) {
      if (typeof rawNames[i] !== "string") {
        return { ok: false, error: `NodeNames[${i}] must be a string, got ${describe(rawNames[i])}` };
      }
    }
    return { ok: true, value: { mode: "names", pod: pod as WirePod, nodeNames: rawNames as string[] } };
  }
  if (!isObject(rawNodes)) return { ok: false, error: `Nodes must be a NodeList object, got ${describe(rawNodes)}` };
  const items = rawNodes.items ?? [];
  if (!Array.isArray(items)) return { ok: false, error: `Nodes.items must be an array, got ${describe(items)}` };
  const nodeNames: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    const name = isObject(item) && isObject(item.metadata) ? item.metadata.name : undefined;
    if (typeof name !== "string" || name === "") {
      return { ok: false, error: `Nodes.items[${i}].metadata.name must be a non-empty string` };
    }
    nodeNames.push(name);
  }
  const nodes = { ...rawNodes, items } as WireNodeList;
  return { ok: true, value: { mode: "nodes", pod: pod as WirePod, nodes, nodeNames } };
}

/** Builds the filter reply in the same field the request used. */
export function filterResult(
  args: ParsedExtenderArgs,
  passing: ReadonlySet<string> | readonly string[],
  failed: FailedNodesMap,
  failedAndUnresolvable: FailedNodesMap,
  error = "",
): ExtenderFilterResult {
  const pass = passing instanceof Set ? passing : new Set(passing as readonly string[]);
  const base = { FailedNodes: failed, FailedAndUnresolvableNodes: failedAndUnresolvable, Error: error };
  if (args.mode === "names") {
    return { NodeNames: args.nodeNames.filter((n) => pass.has(n)), Nodes: null, ...base };
  }
  return {
    Nodes: { ...args.nodes, items: args.nodes.items.filter((n) => pass.has(n.metadata.name)) },
    NodeNames: null,
    ...base,
  };
}
