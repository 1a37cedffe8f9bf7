import test from "ava";
import { filterResult, parseExtenderArgs } from "./extender-wire.js";

const pod = {
  metadata: { name: "web-0", namespace: "default", uid: "u1" },
  spec: {
    volumes: [
      { name: "data", persistentVolumeClaim: { claimName: "data-web-0" } },
      { name: "tmp", emptyDir: {} },
    ],
  },
};
const node = (name: string) => ({ metadata: { name, labels: { "kubernetes.io/hostname": name } }, status: {} });

test("parses a nodeCacheCapable body (NodeNames) as kube-scheduler sends it", (t) => {
  const r = parseExtenderArgs({ Pod: pod, Nodes: null, NodeNames: ["n1", "n2"] });
  t.true(r.ok);
  if (!r.ok) return;
  t.is(r.value.mode, "names");
  t.deepEqual(r.value.nodeNames, ["n1", "n2"]);
  t.is(r.value.pod as unknown, pod);
});

test("parses a full-node body (Nodes) and lists the names", (t) => {
  const r = parseExtenderArgs({ Pod: pod, Nodes: { metadata: {}, items: [node("a"), node("b")] }, NodeNames: null });
  t.true(r.ok);
  if (!r.ok || r.value.mode !== "nodes") return t.fail();
  t.deepEqual(r.value.nodeNames, ["a", "b"]);
  t.is(r.value.nodes.items.length, 2);
});

test("keys are case-insensitive", (t) => {
  const r = parseExtenderArgs({ pod, nodenames: ["x"] });
  t.true(r.ok);
  t.true(parseExtenderArgs({ POD: pod, NODENAMES: [] }).ok);
});

test("an empty NodeNames list is valid", (t) => {
  const r = parseExtenderArgs({ Pod: pod, NodeNames: [] });
  t.deepEqual(r.ok && r.value.nodeNames, []);
});

const bad: Array<[string, unknown, RegExp]> = [
  ["array body", [], /request body must be a JSON object, got array/],
  ["null body", null, /got null/],
  ["string body", "hi", /got string/],
  ["missing Pod", { NodeNames: ["a"] }, /^missing Pod$/],
  ["null Pod", { Pod: null, NodeNames: ["a"] }, /^missing Pod$/],
  ["Pod not an object", { Pod: 3, NodeNames: ["a"] }, /Pod must be an object, got number/],
  ["Pod without metadata", { Pod: { spec: {} }, NodeNames: ["a"] }, /Pod\.metadata must be an object/],
  ["Pod without name", { Pod: { metadata: {} }, NodeNames: ["a"] }, /Pod\.metadata\.name/],
  [
    "volumes not an array",
    { Pod: { metadata: { name: "p" }, spec: { volumes: {} } }, NodeNames: [] },
    /Pod\.spec\.volumes must be an array/,
  ],
  [
    "claimName missing",
    { Pod: { metadata: { name: "p" }, spec: { volumes: [{ persistentVolumeClaim: {} }] } }, NodeNames: [] },
    /volumes\[0\]\.persistentVolumeClaim\.claimName/,
  ],
  ["both Nodes and NodeNames", { Pod: pod, Nodes: { items: [] }, NodeNames: [] }, /both Nodes and NodeNames/],
  ["neither", { Pod: pod, Nodes: null, NodeNames: null }, /neither Nodes nor NodeNames/],
  ["NodeNames wrong type", { Pod: pod, NodeNames: "n1" }, /NodeNames must be an array of strings, got string/],
  ["NodeNames with a number", { Pod: pod, NodeNames: ["a", 2] }, /NodeNames\[1\] must be a string, got number/],
  ["Nodes.items not array", { Pod: pod, Nodes: { items: 1 } }, /Nodes\.items must be an array/],
  ["node without name", { Pod: pod, Nodes: { items: [{ metadata: {} }] } }, /Nodes\.items\[0\]\.metadata\.name/],
  ["duplicate key spellings", { Pod: pod, pod, NodeNames: [] }, /duplicate key "pod"/],
];
for (const [name, body, message] of bad) {
  test(`rejects ${name} with a precise message`, (t) => {
    const r = parseExtenderArgs(body);
    t.false(r.ok);
    if (!r.ok) t.regex(r.error, message);
  });
}

test("filterResult answers in NodeNames when the request used NodeNames", (t) => {
  const r = parseExtenderArgs({ Pod: pod, NodeNames: ["a", "b", "c"] });
  if (!r.ok) return t.fail();
  const out = filterResult(r.value, new Set(["c", "a"]), { b: "too small" }, {});
  t.deepEqual(out.NodeNames, ["a", "c"]);
  t.is(out.Nodes, null);
  t.deepEqual(out.FailedNodes, { b: "too small" });
  t.is(out.Error, "");
});

test("filterResult answers in Nodes with the original node objects when the request used Nodes", (t) => {
  const a = node("a");
  const r = parseExtenderArgs({ Pod: pod, Nodes: { items: [a, node("b")] } });
  if (!r.ok) return t.fail();
  const out = filterResult(r.value, ["a"], {}, { b: "vg pool: need 30Gi, free 12Gi of 100Gi" });
  t.is(out.NodeNames, null);
  t.is(out.Nodes?.items.length, 1);
  t.is(out.Nodes?.items[0] as unknown, a);
  t.deepEqual(out.FailedAndUnresolvableNodes, { b: "vg pool: need 30Gi, free 12Gi of 100Gi" });
});
