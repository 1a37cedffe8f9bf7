import test from "ava";
import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { ANNOTATION_SELECTED_NODE } from "@nls/api";
import { HttpError } from "./body.js";
import {
  admitReserve,
  claimRefusal,
  parameterRefusal,
  podRefusal,
  type PendingPod,
  type PendingPods,
} from "./reserve-admission.js";

const pvc = (patch: {
  annotations?: Record<string, string>;
  volumeName?: string;
  phase?: string;
  deleting?: boolean;
}) =>
  ({
    metadata: {
      name: "data",
      namespace: "app",
      ...(patch.annotations ? { annotations: patch.annotations } : {}),
      ...(patch.deleting ? { deletionTimestamp: new Date() } : {}),
    },
    spec: { storageClassName: "lvm", ...(patch.volumeName ? { volumeName: patch.volumeName } : {}) },
    ...(patch.phase ? { status: { phase: patch.phase } } : {}),
  }) as V1PersistentVolumeClaim;
const onNode1 = { [ANNOTATION_SELECTED_NODE]: "node-1" };

const claimCases: Array<[string, V1PersistentVolumeClaim, RegExp | undefined]> = [
  ["pending and selected for the node", pvc({ annotations: onNode1, phase: "Pending" }), undefined],
  ["no status yet counts as pending", pvc({ annotations: onNode1 }), undefined],
  ["no node chosen", pvc({ phase: "Pending" }), /has no volume.kubernetes.io\/selected-node annotation/],
  ["selected for another node", pvc({ annotations: { [ANNOTATION_SELECTED_NODE]: "node-2" } }), /node-2, not node-1/],
  ["already bound", pvc({ annotations: onNode1, volumeName: "pv-1", phase: "Bound" }), /already bound to volume pv-1/],
  ["lost", pvc({ annotations: onNode1, phase: "Lost" }), /is Lost, not Pending/],
  ["being deleted", pvc({ annotations: onNode1, deleting: true }), /being deleted/],
];
for (const [name, claim, want] of claimCases) {
  test(`claim: ${name}`, (t) => {
    const got = claimRefusal(claim, "app/data", "node-1");
    if (want) t.regex(got ?? "", want);
    else t.is(got, undefined);
  });
}

const lvm = { name: "lvm", volumeType: "LVM", vgName: "pool-0" };
const paramCases: Array<[string, Parameters<typeof parameterRefusal>, RegExp | undefined]> = [
  ["the class's own type and VG", [lvm, "app/data", "LVM", "pool-0"], undefined],
  ["no query parameters", [lvm, "app/data", undefined, undefined], undefined],
  [
    "another type",
    [lvm, "app/data", "Device", undefined],
    /volumeType Device contradicts its StorageClass lvm \(LVM\)/,
  ],
  ["another VG", [lvm, "app/data", "LVM", "pool-9"], /vgName pool-9 contradicts/],
  ["a VG where the class names none", [{ name: "any", volumeType: "LVM" }, "app/data", "LVM", "pool-9"], undefined],
  ["no class known", [undefined, "app/data", "Device", "x"], undefined],
];
for (const [name, args, want] of paramCases) {
  test(`parameters: ${name}`, (t) => {
    const got = parameterRefusal(...args);
    if (want) t.regex(got ?? "", want);
    else t.is(got, undefined);
  });
}

const pod = (name: string, volumes: PendingPod["spec"], extra: Partial<PendingPod> = {}): PendingPod => ({
  metadata: { name, ...extra.metadata },
  spec: { ...volumes, ...extra.spec },
  ...(extra.status ? { status: extra.status } : {}),
});
const usesData = { volumes: [{ name: "v", persistentVolumeClaim: { claimName: "data" } }] };
const podCases: Array<[string, PendingPod[], string, RegExp | undefined]> = [
  ["a waiting pod uses it", [pod("other", { volumes: [] }), pod("web", usesData)], "data", undefined],
  [
    "its generic ephemeral volume",
    [pod("web-0", { volumes: [{ name: "scratch", ephemeral: {} }] })],
    "web-0-scratch",
    undefined,
  ],
  ["no pod uses it", [pod("web", { volumes: [] })], "data", /no pod waiting to be scheduled uses pvc app\/data/],
  ["no pods at all", [], "data", /no pod waiting/],
  ["the pod already has a node", [pod("web", usesData, { spec: { nodeName: "node-1" } })], "data", /no pod waiting/],
  [
    "the pod is being deleted",
    [pod("web", usesData, { metadata: { deletionTimestamp: new Date() } })],
    "data",
    /no pod/,
  ],
  ["the pod has finished", [pod("web", usesData, { status: { phase: "Failed" } })], "data", /no pod/],
];
for (const [name, pods, claim, want] of podCases) {
  test(`pods: ${name}`, (t) => {
    const got = podRefusal(pods, `app/${claim}`, claim);
    if (want) t.regex(got ?? "", want);
    else t.is(got, undefined);
  });
}

const lister = (pods: PendingPod[], calls: string[] = []): PendingPods => ({
  inNamespace: async (ns) => {
    calls.push(ns);
    return pods;
  },
});
const query = { namespace: "app", name: "data", key: "app/data", nodeName: "node-1" };

test("admitReserve: passes a claim in motion, listing the pods of its namespace once", async (t) => {
  const calls: string[] = [];
  await t.notThrowsAsync(
    admitReserve(lister([pod("web", usesData)], calls), pvc({ annotations: onNode1 }), lvm, query),
  );
  t.deepEqual(calls, ["app"]);
});

test("admitReserve: refuses with 409, before reading pods when the claim itself is refused", async (t) => {
  const calls: string[] = [];
  const err = await t.throwsAsync(admitReserve(lister([pod("web", usesData)], calls), pvc({}), lvm, query));
  t.true(err instanceof HttpError);
  t.is((err as HttpError).status, 409);
  t.regex(err!.message, /^reserve refused: pvc app\/data has no volume.kubernetes.io\/selected-node/);
  t.deepEqual(calls, []);
  const noPod = await t.throwsAsync(admitReserve(lister([]), pvc({ annotations: onNode1 }), lvm, query));
  t.is((noPod as HttpError).status, 409);
});

test("admitReserve: an API error listing pods is a 503 that does not say Insufficient", async (t) => {
  const failing: PendingPods = {
    inNamespace: async () => {
      throw new Error("connection refused");
    },
  };
  const err = await t.throwsAsync(admitReserve(failing, pvc({ annotations: onNode1 }), lvm, query));
  t.is((err as HttpError).status, 503);
  t.regex(err!.message, /cannot list the pods of namespace app: connection refused/);
  t.notRegex(err!.message, /Insufficient/);
});
