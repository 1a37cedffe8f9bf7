import test from "ava";
import { markPatch, type PodContainersAtAdmission } from "./mark-patch.js";

const R = "nls.csi.aliyun.com/local-storage";
const KEY = "nls.csi.aliyun.com~1local-storage";
const base = "/spec/containers/0/resources";
const podWith = (...containers: NonNullable<NonNullable<PodContainersAtAdmission["spec"]>["containers"]>) => ({
  spec: { containers },
});

const cases: Array<{ title: string; pod: PodContainersAtAdmission; patch: unknown[] }> = [
  {
    title: "a container without resources gets both maps",
    pod: podWith({}),
    patch: [{ op: "add", path: base, value: { requests: { [R]: "1" }, limits: { [R]: "1" } } }],
  },
  {
    title: "empty resources: each map is added",
    pod: podWith({ resources: {} }),
    patch: [
      { op: "add", path: `${base}/requests`, value: { [R]: "1" } },
      { op: "add", path: `${base}/limits`, value: { [R]: "1" } },
    ],
  },
  {
    title: "requests there, no limits: the key into one, the map for the other",
    pod: podWith({ resources: { requests: { cpu: "100m" } } }),
    patch: [
      { op: "add", path: `${base}/requests/${KEY}`, value: "1" },
      { op: "add", path: `${base}/limits`, value: { [R]: "1" } },
    ],
  },
  {
    title: "both maps there: the key, its slash escaped (RFC 6901)",
    pod: podWith({ resources: { requests: { cpu: "100m" }, limits: { memory: "1Gi" } } }),
    patch: [
      { op: "add", path: `${base}/requests/${KEY}`, value: "1" },
      { op: "add", path: `${base}/limits/${KEY}`, value: "1" },
    ],
  },
  {
    title: "already marked on another container: nothing",
    pod: podWith({}, { resources: { limits: { [R]: "1" } } }),
    patch: [],
  },
  { title: "already marked in requests: nothing", pod: podWith({ resources: { requests: { [R]: "1" } } }), patch: [] },
  { title: "no container: nothing (the API server refuses the pod)", pod: { spec: { containers: [] } }, patch: [] },
  { title: "no spec: nothing", pod: {}, patch: [] },
];

for (const c of cases) {
  test(`patch: ${c.title}`, (t) => {
    t.deepEqual(markPatch(c.pod), c.patch);
  });
}
