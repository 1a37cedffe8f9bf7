import test from "ava";
import { storageClass } from "@nls/testkit";
import { clusterObjects, DEFAULT_CLASS_ANNOTATION, defaultLocalClass, type ClusterObjects } from "./cluster-objects.js";

const node = (name: string) => ({ apiVersion: "v1", kind: "Node", metadata: { name } });
const nlsObject = (name: string) => ({
  apiVersion: "csi.aliyun.com/v1alpha1",
  kind: "NodeLocalStorage",
  metadata: { name },
});
const counts = (o: ClusterObjects) => ({
  nodes: o.nodes.length,
  nls: o.nls.length,
  storageClasses: o.storageClasses.length,
  pvs: o.pvs.length,
  pvcs: o.pvcs.length,
  ignored: o.ignored,
});

const cases: Array<{ title: string; docs: unknown[]; expect: ReturnType<typeof counts> | RegExp }> = [
  {
    title: "each kind goes to its list",
    docs: [
      node("a"),
      nlsObject("a"),
      { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "x" } },
      { apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "pv" } },
      { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "pvc", namespace: "ns" } },
    ],
    expect: { nodes: 1, nls: 1, storageClasses: 1, pvs: 1, pvcs: 1, ignored: {} },
  },
  {
    title: "a List (kubectl get -o yaml) is opened; empty documents are skipped",
    docs: [null, { apiVersion: "v1", kind: "List", items: [node("a"), node("b"), nlsObject("a")] }, undefined],
    expect: { nodes: 2, nls: 1, storageClasses: 0, pvs: 0, pvcs: 0, ignored: {} },
  },
  {
    title: "kinds a placement does not read are counted, not refused",
    docs: [
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "q" } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } },
    ],
    expect: { nodes: 0, nls: 0, storageClasses: 0, pvs: 0, pvcs: 0, ignored: { Pod: 2, Namespace: 1 } },
  },
  {
    title: "a known kind of another API version is not read as this one",
    docs: [{ apiVersion: "csi.example.com/v1", kind: "NodeLocalStorage", metadata: { name: "a" } }],
    expect: { nodes: 0, nls: 0, storageClasses: 0, pvs: 0, pvcs: 0, ignored: { NodeLocalStorage: 1 } },
  },
  {
    title: "a scalar document is an error",
    docs: [node("a"), "hello"],
    expect: /^document 2 is not a Kubernetes object$/,
  },
  { title: "an array document is an error", docs: [[node("a")]], expect: /^document 1 is not a Kubernetes object$/ },
  {
    title: "an object without kind is an error",
    docs: [{ metadata: { name: "a" } }],
    expect: /document 1 has no apiVersion and kind/,
  },
  {
    title: "a read object without a name is an error naming the List item",
    docs: [{ apiVersion: "v1", kind: "List", items: [node("a"), { apiVersion: "v1", kind: "Node", metadata: {} }] }],
    expect: /^document 1 item 2 \(Node\) has no metadata.name$/,
  },
];

for (const c of cases) {
  test(c.title, (t) => {
    const out = clusterObjects(c.docs);
    if (c.expect instanceof RegExp) {
      t.false(out.ok);
      if (!out.ok) t.regex(out.error, c.expect);
    } else {
      t.true(out.ok);
      if (out.ok) t.deepEqual(counts(out.objects), c.expect);
    }
  });
}

const marked = (name: string, params: Record<string, string>, provisioner?: string) => {
  const sc = storageClass(name, params, provisioner);
  sc.metadata!.annotations = { [DEFAULT_CLASS_ANNOTATION]: "true" };
  return sc;
};

for (const [title, classes, expect] of [
  ["the local class marked default", [storageClass("a", {}), marked("b", {})], "b"],
  ["the only local class, unmarked", [storageClass("a", {}), marked("ebs", {}, "ebs.csi.aws.com")], "a"],
  ["none when two local classes and no mark", [storageClass("a", {}), storageClass("b", {})], undefined],
  ["none when no local class", [storageClass("ebs", {}, "ebs.csi.aws.com")], undefined],
] as const) {
  test(`default class: ${title}`, (t) => {
    const objects: ClusterObjects = {
      nodes: [],
      nls: [],
      storageClasses: [...classes],
      pvs: [],
      pvcs: [],
      ignored: {},
    };
    t.is(defaultLocalClass(objects), expect);
  });
}
