import test from "ava";
import { simulationReport } from "./report.js";

/** One node with VG pool-0 (100Gi), the default local class `lvm`, a class of another provisioner, a Pod. */
const CLUSTER = `
apiVersion: csi.aliyun.com/v1alpha1
kind: NodeLocalStorage
metadata: { name: n1 }
status:
  nodeStorageInfo:
    volumeGroups: [{ name: pool-0, allocatable: 107374182400, total: 107374182400, condition: DiskReady }]
  filteredStorageInfo: { volumeGroups: [pool-0] }
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: lvm }
provisioner: local.csi.aliyun.com
parameters: { volumeType: LVM }
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: ebs }
provisioner: ebs.csi.aws.com
---
apiVersion: v1
kind: Pod
metadata: { name: p }
`;

const report = (text: string, pods: string, strategies: Array<"binpack" | "spread"> = ["binpack", "spread"]) =>
  simulationReport(text, "cluster.yaml", { pods, strategies });

test("one section per strategy, each ending with `placed N of M pods`; the heading says what was read", (t) => {
  const out = report(CLUSTER, "3x40Gi");
  if (!out.ok) return t.fail(out.error);
  t.is(
    out.lines[0],
    "cluster cluster.yaml: 0 Nodes, 1 NodeLocalStorages, 2 StorageClasses, 0 PVs, 0 PVCs (not read: 1 Pod)",
  );
  t.is(out.lines[1], "pods 3x40Gi@lvm");
  t.deepEqual(
    out.lines.filter((l) => l.startsWith("strategy ") || l.startsWith("placed ")),
    [
      "strategy binpack: 3 pods onto 1 nodes",
      "placed 2 of 3 pods",
      "strategy spread: 3 pods onto 1 nodes",
      "placed 2 of 3 pods",
    ],
  );
  t.is(out.lines.at(-1), "placed 2 of 3 pods");
});

const errors: Array<[string, string, string, RegExp]> = [
  ["a YAML syntax error", "kind: [unclosed", "1Gi", /^cluster\.yaml: .*flow sequence/i],
  ["a document that is not an object", "- a\n- b\n", "1Gi", /^cluster\.yaml: document 1 is not a Kubernetes object$/],
  [
    "a bad burst, listing the local classes",
    CLUSTER,
    "ten",
    /^--pods: pod group "ten": size ten: .*\(local classes in cluster\.yaml: lvm\)$/,
  ],
  [
    "a class of another provisioner",
    CLUSTER,
    "1Gi@ebs",
    /^--pods: pod-1: StorageClass ebs belongs to provisioner ebs\.csi\.aws\.com/,
  ],
];
for (const [title, text, pods, expect] of errors) {
  test(`${title} is a usage error`, (t) => {
    const out = report(text, pods);
    t.false(out.ok);
    if (!out.ok) t.regex(out.error, expect);
  });
}
