/** The stand-in external-provisioner: which claims it takes, and its controller over a fake API server's watches. */
import test from "ava";
import { FakeKubeApi, until } from "./fake-kube-api.js";
import { claimDue, DRIVER, OpenLocalCsiStandIn, retryDelayMs } from "./open-local-csi.js";

const selectedClaim = (name: string, over: { annotations?: Record<string, string>; volumeName?: string } = {}) => ({
  metadata: {
    name,
    namespace: "ns",
    uid: `uid-${name}`,
    resourceVersion: "1",
    annotations: over.annotations ?? {
      "volume.kubernetes.io/selected-node": "n1",
      "volume.kubernetes.io/storage-provisioner": DRIVER,
    },
  },
  spec: {
    storageClassName: "lvm",
    resources: { requests: { storage: "1Gi" } },
    accessModes: ["ReadWriteOnce"],
    ...(over.volumeName ? { volumeName: over.volumeName } : {}),
  },
});
const lvmClass = (provisioner = DRIVER) => ({
  metadata: { name: "lvm", uid: "uid-lvm" },
  provisioner,
  parameters: { volumeType: "LVM" },
});

for (const [what, claim, sc, want] of [
  ["selected, handed to the driver, unbound", selectedClaim("a"), lvmClass(), true],
  ["no class (yet)", selectedClaim("a"), undefined, false],
  ["a class of another provisioner", selectedClaim("a"), lvmClass("ebs.csi.aws.com"), false],
  ["already bound", selectedClaim("a", { volumeName: "pv-1" }), lvmClass(), false],
  [
    "no node selected",
    selectedClaim("a", { annotations: { "volume.kubernetes.io/storage-provisioner": DRIVER } }),
    lvmClass(),
    false,
  ],
  [
    "not handed to this provisioner",
    selectedClaim("a", { annotations: { "volume.kubernetes.io/selected-node": "n1" } }),
    lvmClass(),
    false,
  ],
  [
    "handed to another provisioner",
    selectedClaim("a", {
      annotations: {
        "volume.kubernetes.io/selected-node": "n1",
        "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
      },
    }),
    lvmClass(),
    false,
  ],
] as const) {
  test(`a claim ${what} is ${want ? "" : "not "}due`, (t) => {
    t.is(claimDue(claim, sc), want);
  });
}

test("the retry backoff doubles from 200 ms up to 5 s", (t) => {
  t.deepEqual([0, 1, 2, 3, 4, 5, 10].map(retryDelayMs), [200, 400, 800, 1600, 3200, 5000, 5000]);
});

const PVCS = "/api/v1/persistentvolumeclaims";

/** An API server holding `claims` pending on n1 for pods of kube-scheduler. */
function pendingClaims(claims: string[]): FakeKubeApi {
  const api = new FakeKubeApi();
  api.collections.set(
    PVCS,
    claims.map((name) => selectedClaim(name)),
  );
  api.collections.set("/apis/storage.k8s.io/v1/storageclasses", [lvmClass()]);
  api.collections.set(
    "/api/v1/pods",
    claims.map((name) => ({
      metadata: { name, namespace: "ns", uid: `pod-${name}` },
      spec: { schedulerName: "default-scheduler", volumes: [{ persistentVolumeClaim: { claimName: name } }] },
    })),
  );
  return api;
}

/** The claims whose PV was posted. */
const pvsOf = (api: FakeKubeApi) =>
  api.posts
    .filter((p) => p.path === "/api/v1/persistentvolumes")
    .map((p) => (p.body as { spec: { claimRef: { name: string } } }).spec.claimRef.name);

/** A stand-in over `api` (resync once a minute) whose reserve call is `reserve`, answering every claim with n1. */
function standInFor(
  api: FakeKubeApi,
  workers: number,
  reserve: () => Promise<{ status: number; body: string } | void>,
) {
  return new OpenLocalCsiStandIn(
    api,
    {
      env: {},
      extenderSchedulerNames: ["default-scheduler"],
      async post() {
        return (await reserve()) ?? { status: 200, body: JSON.stringify({ node: "n1", vgName: "pool-0" }) };
      },
    },
    60_000,
    workers,
  );
}

test("stop() finishes the claims in hand, leaves the rest of the queue and closes every watch", async (t) => {
  const api = pendingClaims(["a", "b", "c", "d", "e"]);
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  let calls = 0;
  const csi = standInFor(api, 2, async () => {
    calls++;
    await held;
  });
  csi.start();
  await until(() => calls === 2);
  t.is(api.open().length, 3, "claims, classes and pods watched");
  const stopped = csi.stop();
  release();
  await stopped;
  t.is(calls, 2);
  t.is(pvsOf(api).length, 2);
  t.is(api.open().length, 0);
});

test("the provisioner works on as many claims at once as it has workers, each claim once", async (t) => {
  for (const workers of [1, 3]) {
    const claims = [...Array(7).keys()].map((i) => `data-${i}`);
    const api = pendingClaims(claims);
    let inFlight = 0;
    let most = 0;
    const csi = standInFor(api, workers, async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
    });
    csi.start();
    await until(() => pvsOf(api).length === claims.length);
    await csi.stop();
    t.is(most, workers, `${workers} workers`);
    t.deepEqual([...pvsOf(api)].sort(), claims, `${workers} workers: every claim got its PV once`);
  }
});

test("a claim is provisioned when the watch shows it due, once however many events name it, and never from a stale event", async (t) => {
  const api = pendingClaims(["a"]);
  const waiting = selectedClaim("a", { annotations: { "volume.kubernetes.io/storage-provisioner": DRIVER } });
  waiting.metadata.resourceVersion = "5";
  api.collections.set(PVCS, [waiting]);
  const csi = standInFor(api, 1, async () => undefined);
  csi.start();
  await until(() => api.open(PVCS).length === 1);
  // An event older than the list, showing the node selected: kept out.
  api.emit(PVCS, "MODIFIED", {
    ...selectedClaim("a"),
    metadata: { ...selectedClaim("a").metadata, resourceVersion: "4" },
  });
  const selected = { ...selectedClaim("a"), metadata: { ...selectedClaim("a").metadata, resourceVersion: "6" } };
  const again = { ...selected, metadata: { ...selected.metadata, resourceVersion: "7" } };
  api.emit(PVCS, "MODIFIED", selected);
  api.emit(PVCS, "MODIFIED", again);
  await until(() => csi.attempts.length === 1);
  // Still unbound (the binder has not got to it): its PV exists, so no second one.
  api.emit(PVCS, "MODIFIED", { ...again, metadata: { ...again.metadata, resourceVersion: "8" } });
  await csi.stop();
  t.deepEqual(pvsOf(api), ["a"]);
  t.deepEqual(
    csi.attempts.map((a) => a.outcome),
    ["created"],
  );
  t.is(api.lists.filter((l) => l.startsWith(PVCS)).length, 1, "listed once");
});

test("a refused claim is tried again when its backoff elapses, with no event naming it", async (t) => {
  const api = pendingClaims(["a"]);
  let calls = 0;
  const csi = standInFor(api, 1, async () =>
    ++calls === 1 ? { status: 500, body: "could not persist the reservation" } : undefined,
  );
  csi.start();
  await until(() => pvsOf(api).length === 1);
  await csi.stop();
  t.deepEqual(
    csi.attempts.map((a) => a.outcome),
    ["retry", "created"],
  );
  t.like(api.posts.find((p) => p.path === "/api/v1/namespaces/ns/events")?.body, {
    reason: "ProvisioningFailed",
  });
});

test("an Insufficient answer gives the node back: selected-node is removed from the claim", async (t) => {
  const api = pendingClaims(["a"]);
  const csi = standInFor(api, 1, async () => ({ status: 500, body: "Insufficient LVM storage on node n1" }));
  csi.start();
  await until(() => api.patches.length === 1);
  await csi.stop();
  t.deepEqual(api.patches, [
    {
      path: "/api/v1/namespaces/ns/persistentvolumeclaims/a",
      body: { metadata: { annotations: { "volume.kubernetes.io/selected-node": null } } },
    },
  ]);
  t.is(csi.attempts[0]?.outcome, "reschedule");
});
