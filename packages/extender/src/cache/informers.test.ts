import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import test, { type ExecutionContext } from "ava";
import { createLogger } from "@nls/daemon";
import { Gi, lease, nls, pv, pvc, storageClass } from "@nls/testkit";
import { Writable } from "node:stream";
import { makeInformers } from "./informers.js";
import { ClusterStore } from "./store.js";

/**
 * A fake API server: lists answer from `objects`, a watch stays open until the test pushes events
 * or closes. The NLS list fails the first time, as an API server restart would make it.
 */
async function fakeApiServer() {
  const now = new Date();
  const lists: Record<string, { kind: string; items: unknown[] }> = {
    "/apis/csi.aliyun.com/v1alpha1/nodelocalstorages": {
      kind: "NodeLocalStorageList",
      items: [nls("n1", { vgs: [{ name: "pool-0", allocatable: 100 * Gi }] })],
    },
    "/apis/storage.k8s.io/v1/storageclasses": { kind: "StorageClassList", items: [storageClass("lvm", {})] },
    "/api/v1/persistentvolumes": { kind: "PersistentVolumeList", items: [] },
    "/api/v1/persistentvolumeclaims": {
      kind: "PersistentVolumeClaimList",
      items: [pvc("ns", "a", { className: "lvm", size: "10Gi", selectedNode: "n1" })],
    },
    "/apis/coordination.k8s.io/v1/namespaces/nls-node-lease/leases": { kind: "LeaseList", items: [lease("n1", now)] },
  };
  const requests: string[] = [];
  const watches = new Map<string, ServerResponse>();
  const sockets = new Set<Socket>();
  let failNlsList = 1;
  /** Paths whose watch requests are refused (500), as while an API server restarts. */
  const refuseWatches = new Set<string>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(`${url.pathname}${url.searchParams.get("watch") ? "?watch" : ""}`);
    const list = lists[url.pathname];
    if (!list) {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get("watch") && refuseWatches.has(url.pathname)) {
      res.writeHead(500, { "content-type": "application/json" }).end('{"kind":"Status","message":"restarting"}');
      return;
    }
    if (url.searchParams.get("watch")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.flushHeaders();
      watches.set(url.pathname, res);
      return;
    }
    if (url.pathname.endsWith("/nodelocalstorages") && failNlsList-- > 0) {
      res.writeHead(500, { "content-type": "application/json" }).end('{"kind":"Status","message":"etcd down"}');
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ apiVersion: "v1", kind: list.kind, metadata: { resourceVersion: "1" }, items: list.items }),
    );
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: "c", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  });
  return {
    kc,
    requests,
    /** Sends a watch event on an open watch. */
    push(path: string, type: string, object: unknown) {
      watches.get(path)?.write(`${JSON.stringify({ type, object })}\n`);
    },
    /** What the next list of `path` answers. */
    setItems(path: string, items: unknown[]) {
      lists[path]!.items = items;
    },
    /** Ends the open watch of `path` with 410 Gone, as a compacted etcd does: the feed lists again. */
    expireWatch(path: string) {
      const res = watches.get(path);
      res?.write(`${JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } })}\n`);
      res?.end();
    },
    /** Breaks the open watch of `path` and refuses new ones until `restore`. */
    breakWatch(path: string) {
      refuseWatches.add(path);
      watches.get(path)?.destroy();
    },
    restore(path: string) {
      refuseWatches.delete(path);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A store the informers have filled from `api`, stopped with the test. */
async function syncedStore(t: ExecutionContext, api: Awaited<ReturnType<typeof fakeApiServer>>): Promise<ClusterStore> {
  const store = new ClusterStore();
  const informers = makeInformers(api.kc, store, createLogger("nls-extender", "silent"), { restartMinMs: 50 });
  t.teardown(async () => {
    await informers.stop();
    await api.close();
  });
  await informers.start();
  await until("the informers to sync", () => informers.synced());
  return store;
}

test("informers fill the store, restart a failed list, and report ready only once all have synced", async (t) => {
  const api = await fakeApiServer();
  const store = new ClusterStore();
  const failures: string[] = [];
  const informers = makeInformers(api.kc, store, createLogger("nls-extender", "silent"), {
    restartMinMs: 50,
    onFailure: (kind) => failures.push(kind),
  });
  t.teardown(async () => {
    await informers.stop();
    await api.close();
  });
  await informers.start();
  t.false(informers.synced(), "the NLS list failed: not ready yet");
  await until("the NLS informer to be restarted and synced", () => informers.synced());
  t.true(api.requests.filter((r) => r === "/apis/csi.aliyun.com/v1alpha1/nodelocalstorages").length >= 2);
  t.deepEqual(failures, ["NodeLocalStorage"], "the failed list was reported once, by kind");
  t.truthy(store.node("n1"));
  t.is(store.agentProblem("n1", Date.now()), undefined);
  t.deepEqual(store.ledger.snapshot().nodes, { n1: { vgs: { "pool-0": 10 * Gi }, devices: {}, unplaced: 0 } });
  t.false(
    api.requests.some((r) => r.startsWith("/api/v1/pods")),
    "no pod watch",
  );

  // Watch events reach the store: the PVC is deleted, its commitment goes.
  await until("the PVC watch", () => api.requests.includes("/api/v1/persistentvolumeclaims?watch"));
  api.push(
    "/api/v1/persistentvolumeclaims",
    "DELETED",
    pvc("ns", "a", { className: "lvm", size: "10Gi", selectedNode: "n1" }),
  );
  await until("the PVC deletion", () => store.ledger.usage("n1") === undefined);
  t.pass();
});

test("a broken watch makes its feed down until a restart watches again; the backoff starts over after a healthy spell", async (t) => {
  const api = await fakeApiServer();
  const store = new ClusterStore();
  let now = 1_000_000;
  const retries: number[] = [];
  const logs = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        const entry = JSON.parse(line) as { msg: string; kind?: string; retryInMs?: number };
        if (entry.msg === "watch failed; restarting" && entry.kind === "PersistentVolume")
          retries.push(entry.retryInMs!);
      }
      done();
    },
  });
  const informers = makeInformers(api.kc, store, createLogger("nls-extender", "info", logs), {
    restartMinMs: 20,
    healthyResetMs: 60_000,
    clock: () => now,
  });
  t.teardown(async () => {
    await informers.stop();
    await api.close();
  });
  const pv = () => informers.health().find((f) => f.kind === "PersistentVolume")!;
  await informers.start();
  await until("all synced", () => informers.synced());
  await until("the PV watch", () => api.requests.includes("/api/v1/persistentvolumes?watch"));
  t.is(pv().downSince, undefined);

  api.breakWatch("/api/v1/persistentvolumes");
  await until("three refused restarts", () => retries.length >= 3);
  t.is(pv().downSince, 1_000_000, "down from the first failure, through the refused restarts");
  t.deepEqual(retries.slice(0, 3), [20, 40, 80], "each refused restart waits twice as long");

  api.restore("/api/v1/persistentvolumes");
  await until("the PV feed back up", () => pv().downSince === undefined);

  // Soon after coming back, a new failure continues the backoff; after a healthy spell it starts over.
  now += 1_000;
  const before = retries.length;
  api.breakWatch("/api/v1/persistentvolumes");
  await until("a failure soon after", () => retries.length > before);
  t.true(retries[before]! > 80, `continues the backoff (${retries[before]} ms)`);
  api.restore("/api/v1/persistentvolumes");
  await until("the PV feed back up again", () => pv().downSince === undefined);
  now += 60_000;
  const later = retries.length;
  api.breakWatch("/api/v1/persistentvolumes");
  await until("a failure after a healthy minute", () => retries.length > later);
  t.is(retries[later], 20, "starts over from the minimum");
  t.is(pv().downSince, now);
});

/**
 * The scenario (e) through the informers: watch events pushed in adversarial order (a PVC
 * version older than the one the reserve route's own patch returned, a PV before its PVC's binding, the
 * NLS listing the volume's LV, the PV deleted before its claim) go through client-node's list/watch
 * into the store, and the claim's bytes count exactly once after every event. A second PVC pushed
 * after each event marks when the feed has delivered it (one feed delivers in order).
 */
test("watch events in adversarial order count a claim's bytes exactly once after each", async (t) => {
  const api = await fakeApiServer();
  const store = await syncedStore(t, api);
  for (const path of ["/api/v1/persistentvolumeclaims", "/api/v1/persistentvolumes"]) {
    await until(`the watch of ${path}`, () => api.requests.includes(`${path}?watch`));
  }
  await until("the NLS watch", () => api.requests.includes("/apis/csi.aliyun.com/v1alpha1/nodelocalstorages?watch"));
  const PVCS = "/api/v1/persistentvolumeclaims";
  // external-provisioner names the PV (and the CSI driver the LV) `<prefix>-<claim uid>`.
  const uid = "3d6f2b1a-7c4e-4f0a-9b8d-2e5c1a0f9d47";
  const volumeName = `local-${uid}`;
  const version = (rv: string, spec: Parameters<typeof pvc>[2]) => {
    const o = pvc("ns", "a", { className: "lvm", size: "10Gi", uid, ...spec });
    o.metadata!.resourceVersion = rv;
    return o;
  };
  let markers = 0;
  /** Pushes `type object` on `path`, then waits until the feed has delivered it. */
  const deliver = async (path: string, type: string, object: object, seen: () => boolean) => {
    api.push(path, type, object);
    await until(`${type} on ${path}`, seen);
  };
  /** After an event whose effect is "nothing changes": a marker PVC behind it on the same feed. */
  const drainPvcs = async () => {
    const name = `marker-${markers++}`;
    api.push(PVCS, "ADDED", pvc("other", name, { className: "none", size: "1Gi" }));
    await until(`marker ${name}`, () => store.pvc("other", name) !== undefined);
  };
  const counted = () => store.ledger.usage("n1")?.vg.get("pool-0") ?? 0;

  // Listed: the claim selected for n1 (10Gi).
  t.is(counted(), 10 * Gi);
  // The reserve route grants it and applies the PVC its annotation patch returned (version 7).
  const granted = store.grant("ns/a", "n1", { kind: "lvm", claim: "ns/a", bytes: 10 * Gi });
  t.true(granted.ok);
  const record = JSON.stringify({ node: "n1", volumeType: "LVM", vgName: "pool-0", bytes: 10 * Gi });
  store.applyPvc(version("7", { selectedNode: "n1", allocation: record }), true);
  t.is(store.ledger.effective("ns/a")?.kind, "allocation");
  // The watch, behind, now delivers version 6: selected, without the allocation annotation.
  api.push(PVCS, "MODIFIED", version("6", { selectedNode: "n1" }));
  await drainPvcs();
  t.is(store.ledger.effective("ns/a")?.kind, "allocation", "an older event does not take the allocation back");
  t.is(counted(), 10 * Gi);
  // The PV arrives before the PVC's binding (another feed).
  const volume = pv(volumeName, {
    node: "n1",
    size: "10Gi",
    vgName: "pool-0",
    claim: { namespace: "ns", name: "a", uid },
  });
  volume.metadata!.resourceVersion = "8";
  await deliver("/api/v1/persistentvolumes", "ADDED", volume, () => store.pv(volumeName) !== undefined);
  t.is(counted(), 10 * Gi);
  t.deepEqual(Object.keys(store.ledger.snapshot().claims), [`pv:${volumeName}`]);
  // The watch echoes version 7, then the binding (version 9).
  api.push(PVCS, "MODIFIED", version("7", { selectedNode: "n1", allocation: record }));
  api.push(PVCS, "MODIFIED", version("9", { selectedNode: "n1", allocation: record, volumeName }));
  await drainPvcs();
  t.is(counted(), 10 * Gi);
  // The agent reports the volume's LV (named after the PV): the PV accounts for it.
  const withLv = nls("n1", {
    vgs: [{ name: "pool-0", allocatable: 100 * Gi, lvs: [{ name: volumeName, total: 10 * Gi }] }],
  });
  await deliver(
    "/apis/csi.aliyun.com/v1alpha1/nodelocalstorages",
    "MODIFIED",
    withLv,
    () => store.node("n1")?.lvs.length === 1,
  );
  t.is(counted(), 10 * Gi);
  t.deepEqual(store.unexplainedLvs("n1"), []);
  // Retain: the PV is deleted, then the claim; the LV stays and takes over the bytes.
  await deliver("/api/v1/persistentvolumes", "DELETED", volume, () => store.pv(volumeName) === undefined);
  t.is(counted(), 10 * Gi);
  await deliver(PVCS, "DELETED", version("10", { selectedNode: "n1", volumeName }), () => !store.pvc("ns", "a"));
  t.is(counted(), 10 * Gi);
  t.deepEqual(
    store.unexplainedLvs("n1").map((c) => [c.lv, c.bytes]),
    [[volumeName, 10 * Gi]],
  );
});

test("a PV is kept as the store's record; the informer's copy, cut to its identity, still ends it when a relist no longer has it", async (t) => {
  const api = await fakeApiServer();
  const PVS = "/api/v1/persistentvolumes";
  const local = (name: string, size: string) => {
    const v = pv(name, { node: "n1", size, vgName: "pool-0", claim: { namespace: "ns", name: `claim-${name}` } });
    v.metadata!.resourceVersion = "5";
    return v;
  };
  api.setItems(PVS, [local("pv-a", "20Gi"), local("pv-b", "30Gi")]);
  const store = await syncedStore(t, api);
  t.like(store.pv("pv-a"), {
    local: true,
    node: "n1",
    claimName: "claim-pv-a",
    allocation: { node: "n1", vg: "pool-0" },
  });
  const pvsCounted = () =>
    Object.keys(store.ledger.snapshot().claims)
      .filter((k) => k.startsWith("pv:"))
      .sort();
  t.deepEqual(pvsCounted(), ["pv:pv-a", "pv:pv-b"]);

  api.setItems(PVS, [local("pv-b", "30Gi")]);
  api.expireWatch(PVS);
  await until("pv-a gone after the relist", () => store.pv("pv-a") === undefined);
  t.deepEqual(pvsCounted(), ["pv:pv-b"], "the deleted PV's space is released, the unchanged one kept");
  t.like(store.pv("pv-b"), { local: true, node: "n1", resourceVersion: "5" });
});
