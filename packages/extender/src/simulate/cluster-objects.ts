import type { V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from "@kubernetes/client-node";
import { API_VERSION, NLS_KIND, type NodeLocalStorage } from "@nls/api";
import { parseAllDocuments } from "yaml";
import { localClassOf } from "../request.js";

/**
 * The objects a simulation reads, by kind: what `kubectl get nodes,nls,storageclasses,pv,pvc -A -o yaml`
 * prints, or a hand-written sample. Pure: parsed documents in, sorted objects (or a clear error) out.
 */
export interface ClusterObjects {
  nodes: V1Node[];
  nls: NodeLocalStorage[];
  storageClasses: V1StorageClass[];
  pvs: V1PersistentVolume[];
  pvcs: V1PersistentVolumeClaim[];
  /** Kinds present in the input that a placement does not depend on (Pods, Namespaces, …), with counts. */
  ignored: Record<string, number>;
}

export const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";

/** `apiVersion/kind` → the list it goes to. */
const READ: Record<string, Exclude<keyof ClusterObjects, "ignored">> = {
  "v1/Node": "nodes",
  [`${API_VERSION}/${NLS_KIND}`]: "nls",
  "storage.k8s.io/v1/StorageClass": "storageClasses",
  "v1/PersistentVolume": "pvs",
  "v1/PersistentVolumeClaim": "pvcs",
};

type Parsed = { ok: true; objects: ClusterObjects } | { ok: false; error: string };

interface KubeObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown };
  items?: unknown;
}

/**
 * Sorts YAML/JSON documents into the kinds a simulation reads. `kind: List` (and `*List`) documents are
 * opened; empty documents are skipped. A document that is not a Kubernetes object, or an object read
 * here without a name, is an error naming the document.
 */
export function clusterObjects(documents: readonly unknown[]): Parsed {
  const out: ClusterObjects = { nodes: [], nls: [], storageClasses: [], pvs: [], pvcs: [], ignored: {} };
  const visit = (doc: unknown, where: string): string | undefined => {
    if (doc === null || doc === undefined) return undefined;
    if (typeof doc !== "object" || Array.isArray(doc)) return `${where} is not a Kubernetes object`;
    const o = doc as KubeObject;
    if (typeof o.kind !== "string" || typeof o.apiVersion !== "string") {
      return `${where} has no apiVersion and kind`;
    }
    if (o.kind.endsWith("List") && Array.isArray(o.items)) {
      for (let i = 0; i < o.items.length; i++) {
        const error = visit(o.items[i], `${where} item ${i + 1}`);
        if (error) return error;
      }
      return undefined;
    }
    const list = READ[`${o.apiVersion}/${o.kind}`];
    if (!list) {
      out.ignored[o.kind] = (out.ignored[o.kind] ?? 0) + 1;
      return undefined;
    }
    if (typeof o.metadata?.name !== "string" || o.metadata.name === "") {
      return `${where} (${o.kind}) has no metadata.name`;
    }
    (out[list] as unknown[]).push(doc);
    return undefined;
  };
  for (let i = 0; i < documents.length; i++) {
    const error = visit(documents[i], `document ${i + 1}`);
    if (error) return { ok: false, error };
  }
  return { ok: true, objects: out };
}

/** `clusterObjects` of a file's text (YAML or JSON, one or more documents); errors name `source`. */
export function clusterObjectsFromText(text: string, source: string): Parsed {
  const documents = parseAllDocuments(text);
  const docs = Array.isArray(documents) ? documents : [documents];
  const broken = docs.find((d) => d.errors.length > 0);
  if (broken) return { ok: false, error: `${source}: ${broken.errors[0]!.message}` };
  const parsed = clusterObjects(docs.map((d) => d.toJS() as unknown));
  return parsed.ok ? parsed : { ok: false, error: `${source}: ${parsed.error}` };
}

/** Names of the StorageClasses of the local provisioner, sorted. */
export const localClassNames = (objects: ClusterObjects): string[] =>
  objects.storageClasses
    .filter((sc) => localClassOf(sc))
    .map((sc) => sc.metadata!.name!)
    .sort();

/**
 * The class a volume gets when none is named: the local class marked default, else the only local class,
 * else none (the caller asks for one).
 */
export function defaultLocalClass(objects: ClusterObjects): string | undefined {
  const local = objects.storageClasses.filter((sc) => localClassOf(sc));
  const marked = local.filter((sc) => sc.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true");
  if (marked.length === 1) return marked[0]!.metadata!.name;
  return local.length === 1 ? local[0]!.metadata!.name : undefined;
}
