import { spawnSync } from "node:child_process";
import { request } from "node:http";
import test from "ava";
import express from "express";
import { ANNOTATION_NLS_ALLOCATION, ANNOTATION_SELECTED_NODE, DEFAULT_LEASE_NAMESPACE } from "@nls/api";
import { createLogger } from "@nls/daemon";
import type { ClusterStore } from "./cache/store.js";
import type { Placement } from "./decide.js";
import { Gi, lease, nls, pod, pv, pvc, storageClass } from "@nls/testkit";
import { clusterWith } from "../testing/cluster.js";
import { ExtenderMetrics } from "./metrics.js";
import type { ClaimWriter, RouteContext } from "./routes/context.js";
import { createApp, createDebugApp, createReserveApp, expressShaped, listen, type RunningServer } from "./server.js";

const now = Date.parse("2026-03-01T12:00:00Z");

interface Harness {
  ctx: RouteContext;
  url: string;
  store: ClusterStore;
  writes: Array<[string, string, string]>;
  server: RunningServer;
  setReady(v: boolean): void;
  setStandby(reason: string | undefined): void;
  failWrites(v: boolean): void;
  /** Every log line, parsed (debug and up). */
  logs: Array<Record<string, unknown>>;
}

async function start(maxBodyBytes = 10 * 1024 * 1024, placement: Placement = "score"): Promise<Harness> {
  const store = clusterWith(["n1", "n2"], now);
  // n2 is nearly full.
  store.applyPv(pv("pv-big", { node: "n2", size: "140Gi", vgName: "pool-0" }));
  store.applyNls(
    nls("n2", {
      vgs: [
        { name: "pool-0", allocatable: 150 * Gi },
        { name: "pool-1", allocatable: 0 },
      ],
    }),
  );
  store.applyPvc(pvc("default", "data", { className: "lvm", size: "30Gi" }));
  store.applyPvc(pvc("default", "other", { className: "nonexistent", size: "1Gi" }));
  const writes: Harness["writes"] = [];
  const logs: Harness["logs"] = [];
  const waiting = ["data", "raw", "dir", "dir-2", "huge", "sizeless"];
  let ready = true;
  let standby: string | undefined;
  let failing = false;
  const writer: ClaimWriter = {
    async annotate(namespace, name, key, value) {
      if (failing) throw new Error("apiserver unavailable");
      writes.push([`${namespace}/${name}`, key, value]);
      // The informer echoes the write back.
      const current = store.pvc(namespace, name)!;
      store.applyPvc({
        ...current,
        metadata: { ...current.metadata, annotations: { ...current.metadata!.annotations, [key]: value } },
      });
    },
  };
  const ctx: RouteContext = {
    store,
    metrics: new ExtenderMetrics(store, { version: "test", commit: "abc123" }),
    log: createLogger("nls-extender", "debug", { write: (line: string) => logs.push(JSON.parse(line)) }),
    reservationTtlMs: 60_000,
    placement,
    maxBodyBytes,
    writer,
    // web-0 waits to be scheduled with the claims in `waiting`.
    pods: { inNamespace: async (ns) => (ns === "default" ? [pod("default", "web-0", waiting)] : []) },
    now: () => now,
    // As the daemon: a standby is ready (it could serve if it led); only the routes refuse.
    notReady: () => (ready ? undefined : "caches not synced yet"),
    notServing: () => standby,
    build: { version: "test", commit: "abc123" },
  };
  const server = await listen(createApp(ctx), 0, "127.0.0.1");
  return {
    ctx,
    url: `http://127.0.0.1:${server.port}`,
    store,
    writes,
    server,
    setReady: (v) => (ready = v),
    setStandby: (v) => (standby = v),
    failWrites: (v) => (failing = v),
    logs,
  };
}

const post = (url: string, body: string, type = "application/json") =>
  fetch(url, { method: "POST", body, headers: { "content-type": type } });

/** The body kube-scheduler sends with nodeCacheCapable: true (Go structs without json tags). */
const namesBody = (claims: string[], names: string[]) =>
  JSON.stringify({ Pod: pod("default", "web-0", claims), Nodes: null, NodeNames: names });

const node = (name: string) => ({
  metadata: { name, labels: { "kubernetes.io/hostname": name } },
  spec: {},
  status: { capacity: { cpu: "4" } },
});
/** The body with nodeCacheCapable: false: whole Node objects. */
const nodesBody = (claims: string[], names: string[]) =>
  JSON.stringify({
    Pod: pod("default", "web-0", claims),
    Nodes: { metadata: {}, items: names.map(node) },
    NodeNames: null,
  });

test("filter passes pods without local PVCs through with every node (NodeNames mode)", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  const res = await post(`${h.url}/scheduler/predicates`, namesBody(["other"], ["n1", "n2", "unknown"]));
  t.is(res.status, 200);
  t.deepEqual(await res.json(), {
    NodeNames: ["n1", "n2", "unknown"],
    Nodes: null,
    FailedNodes: {},
    FailedAndUnresolvableNodes: {},
    Error: "",
  });
});

test("filter answers in NodeNames with reasons, and holds a reservation on the only node left", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  const res = await post(`${h.url}/scheduler/predicates`, namesBody(["data"], ["n1", "n2", "unknown"]));
  t.is(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  t.deepEqual(body.NodeNames, ["n1"]);
  t.deepEqual(body.FailedNodes, {});
  // kube-scheduler gets one short reason per failure class; the numbers go to the log.
  t.deepEqual(body.FailedAndUnresolvableNodes, {
    n2: "insufficient local storage (LVM)",
    unknown: "no local storage reported (no NodeLocalStorage)",
  });
  const line = h.logs.find((l) => l.msg === "filter");
  t.deepEqual(line?.refusals, {
    "insufficient local storage (LVM)": {
      nodes: 1,
      example: { node: "n2", detail: "vg pool-0: need 30Gi, free 10Gi of 150Gi; vg pool-1: need 30Gi, free 0 of 0" },
    },
    "no local storage reported (no NodeLocalStorage)": {
      nodes: 1,
      example: { node: "unknown", detail: "no NodeLocalStorage for this node (is the nls agent running here?)" },
    },
  });
  t.deepEqual(h.logs.find((l) => l.msg === "filter refusals")?.details, {
    n2: "vg pool-0: need 30Gi, free 10Gi of 150Gi; vg pool-1: need 30Gi, free 0 of 0",
    unknown: "no NodeLocalStorage for this node (is the nls agent running here?)",
  });
  t.is(h.store.ledger.liveReservations, 1);
  t.is(h.store.ledger.tentativeOf("default/data")?.node, "n1");
});

test("filter answers in Nodes with the full node objects when the request used Nodes", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  const res = await post(`${h.url}/scheduler/predicates`, nodesBody(["data"], ["n1", "n2"]));
  t.is(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  t.deepEqual(body.Nodes, { metadata: {}, items: [node("n1")] });
  t.is(body.NodeNames, null);
  t.deepEqual(Object.keys(body.FailedAndUnresolvableNodes as object), ["n2"]);
});

test("prioritize scores known nodes and leaves unknown ones at 0 instead of failing", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  const res = await post(`${h.url}/scheduler/priorities`, namesBody(["data"], ["n1", "n2", "unknown"]));
  t.is(res.status, 200);
  // Nodes scoring 0 are left out: kube-scheduler adds nothing to a node the answer does not list.
  t.deepEqual(await res.json(), [{ Host: "n1", Score: 10 }]);
  t.is(h.store.ledger.tentativeOf("default/data")?.node, "n1");
});

test("prioritize accepts Nodes mode too", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  const res = await post(`${h.url}/scheduler/priorities`, nodesBody(["data"], ["n1", "n2"]));
  t.deepEqual(await res.json(), [{ Host: "n1", Score: 10 }]);
});

test("prioritize answers an empty list for a pod without local claims: every node scores 0 anyway", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  for (const body of [namesBody([], ["n1", "n2"]), nodesBody([], ["n1", "n2"])]) {
    const res = await post(`${h.url}/scheduler/priorities`, body);
    t.is(res.status, 200);
    t.is(await res.text(), "[]");
  }
});

const badBodies: Array<[string, string, RegExp]> = [
  ["not JSON", "{Pod:", /^malformed JSON: /],
  ["empty", "", /^request body is empty/],
  ["an array", "[]", /request body must be a JSON object, got array/],
  ["no Pod", JSON.stringify({ NodeNames: ["n1"] }), /missing Pod/],
  ["Pod without name", JSON.stringify({ Pod: { metadata: {} }, NodeNames: [] }), /Pod.metadata.name/],
  [
    "NodeNames of numbers",
    JSON.stringify({ Pod: pod("d", "p", []), NodeNames: [1] }),
    /NodeNames\[0\] must be a string/,
  ],
  [
    "both Nodes and NodeNames",
    JSON.stringify({ Pod: pod("d", "p", []), NodeNames: [], Nodes: { items: [] } }),
    /both Nodes and NodeNames/,
  ],
  ["neither", JSON.stringify({ Pod: pod("d", "p", []) }), /neither Nodes nor NodeNames/],
  [
    "volumes not an array",
    JSON.stringify({ Pod: { metadata: { name: "p" }, spec: { volumes: {} } }, NodeNames: [] }),
    /Pod.spec.volumes must be an array/,
  ],
];

for (const verb of ["predicates", "priorities"]) {
  test(`${verb}: malformed bodies get 400 with a precise message`, async (t) => {
    const h = await start();
    t.teardown(() => h.server.close());
    for (const [what, body, message] of badBodies) {
      const res = await post(`${h.url}/scheduler/${verb}`, body);
      t.is(res.status, 400, what);
      t.regex(res.headers.get("content-type") ?? "", /json/, what);
      t.regex(((await res.json()) as { Error: string }).Error, message, what);
    }
    // Logged as every error is: `err` an object with the message, under one constant message.
    const logged = h.logs.filter((l) => l.msg === "bad request");
    t.is(logged.length, badBodies.length);
    for (const l of logged) t.is(typeof (l.err as { message?: unknown }).message, "string");
  });
}

test("oversized bodies get 413 with the limit in the message", async (t) => {
  const h = await start(1024);
  t.teardown(() => h.server.close());
  const names = Array.from({ length: 500 }, (_, i) => `node-${i}`);
  const res = await post(`${h.url}/scheduler/predicates`, namesBody([], names));
  t.is(res.status, 413);
  t.regex(((await res.json()) as { Error: string }).Error, /exceeds the limit of 1Ki \(--max-body-bytes\)/);
  // Chunked (no content-length) is caught while reading.
  const chunked = await fetch(`${h.url}/scheduler/priorities`, {
    method: "POST",
    body: new Blob([namesBody([], names)]).stream(),
    duplex: "half",
  } as RequestInit);
  t.is(chunked.status, 413);
});

test("bodies being read at once are capped at twice --max-body-bytes: the next one gets 503 until they finish", async (t) => {
  const h = await start(1024);
  t.teardown(() => h.server.close());
  const body = namesBody([], ["n1"]).padEnd(1000, " ");
  // Two clients send 900 of their 1,000 bytes and stall: 1,800 of the 2,048-byte budget is held.
  const stalled = [0, 1].map(() => {
    const req = request(`${h.url}/scheduler/predicates`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(body.length) },
    });
    const answered = new Promise<number>((resolve, reject) => {
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
    });
    req.write(body.slice(0, 900));
    return { req, answered };
  });
  let refused: Response | undefined;
  for (let i = 0; i < 100 && refused?.status !== 503; i++) {
    refused = await post(`${h.url}/scheduler/predicates`, body);
    if (refused.status !== 503) await new Promise((r) => setTimeout(r, 20));
  }
  t.is(refused?.status, 503);
  t.regex(
    ((await refused!.json()) as { Error: string }).Error,
    /^busy: .* at most 2Ki at once \(2 × --max-body-bytes\)/,
  );
  for (const s of stalled) s.req.end(body.slice(900));
  t.deepEqual(await Promise.all(stalled.map((s) => s.answered)), [200, 200]);
  t.is((await post(`${h.url}/scheduler/predicates`, body)).status, 200, "the budget is free again");
});

const reserveUrl = (h: Harness, name: string, query: string) =>
  `${h.url}/apis/scheduling/default/persistentvolumeclaims/${name}?${query}`;

/** What kube-scheduler's PreBind does before the CSI driver asks: selected-node on the claim. */
function select(h: Harness, node: string, claim = "data"): void {
  const current = h.store.pvc("default", claim);
  if (!current) throw new Error(`no pvc default/${claim} in the store`);
  h.store.applyPvc({
    ...current,
    metadata: {
      ...current.metadata,
      annotations: { ...current.metadata?.annotations, [ANNOTATION_SELECTED_NODE]: node },
    },
  });
}

test("reserve allocates, persists on the PVC, and is idempotent", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  select(h, "n1");
  const first = await post(reserveUrl(h, "data", "nodeName=n1&volumeType=LVM"), "");
  t.is(first.status, 200);
  const body = await first.json();
  t.deepEqual(body, {
    node: "n1",
    vgName: "pool-1",
    device: "",
    disk: "",
    volumeType: "LVM",
    persistentVolumeClaim: "default/data",
  });
  t.deepEqual(h.writes, [
    [
      "default/data",
      ANNOTATION_NLS_ALLOCATION,
      JSON.stringify({ node: "n1", volumeType: "LVM", vgName: "pool-1", bytes: 30 * Gi }),
    ],
  ]);
  const again = await post(reserveUrl(h, "data", "nodeName=n1&volumeType=LVM"), "");
  t.deepEqual(await again.json(), body);
  t.is(h.writes.length, 1, "the second call writes nothing");
  t.is(h.store.ledger.usage("n1")?.vg.get("pool-1"), 30 * Gi, "counted once");
});

test("reserve answers 500 Insufficient when the VG is full, and changes nothing", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  select(h, "n2");
  const before = h.store.ledger.effective("default/data");
  const res = await post(reserveUrl(h, "data", "nodeName=n2&vgName=pool-0"), "");
  t.is(res.status, 500);
  t.is(
    await res.text(),
    "Insufficient LVM storage on node n2 for 30Gi: vg pool-0: need 30Gi, free 10Gi of 150Gi (held by pv pv-big 140Gi (pool-0))",
  );
  t.is(h.writes.length, 0);
  t.is(h.store.ledger.source("default/data", "allocation"), undefined);
  t.deepEqual(h.store.ledger.effective("default/data"), before);
  // Counted: each such refusal sends the pod back to kube-scheduler.
  t.regex(await (await fetch(`${h.url}/metrics`)).text(), /^nls_extender_reserve_refusals_total 1$/m);
});

test("reserve answers Device and MountPoint volumes in the fields open-local's CSI driver reads", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  h.store.applyNls(
    nls("n1", {
      vgs: [{ name: "pool-0", allocatable: 100 * Gi }],
      devices: [
        { name: "/dev/vdc", total: 100 * Gi, mediaType: "ssd" },
        { name: "/dev/vdd", total: 100 * Gi, mediaType: "hdd" },
      ],
      selectedDevices: ["/dev/vdc"],
      mountPoints: [{ name: "/mnt/open-local/hdd-0", total: 100 * Gi, device: "/dev/vdd" }],
    }),
  );
  h.store.applyStorageClass(storageClass("ssd", { volumeType: "Device", mediaType: "ssd" }));
  h.store.applyStorageClass(storageClass("mp-hdd", { volumeType: "MountPoint", mediaType: "hdd" }));
  h.store.applyPvc(pvc("default", "raw", { className: "ssd", size: "80Gi" }));
  h.store.applyPvc(pvc("default", "dir", { className: "mp-hdd", size: "80Gi" }));
  h.store.applyPvc(pvc("default", "dir-2", { className: "mp-hdd", size: "80Gi" }));
  for (const [claim, volumeType, device, disk] of [
    ["raw", "Device", "/dev/vdc", ""],
    ["dir", "MountPoint", "", "/mnt/open-local/hdd-0"],
  ] as const) {
    select(h, "n1", claim);
    const res = await post(reserveUrl(h, claim, `volumeType=${volumeType}&nodeName=n1`), "");
    t.deepEqual(await res.json(), {
      node: "n1",
      vgName: "",
      device,
      disk,
      volumeType,
      persistentVolumeClaim: `default/${claim}`,
    });
  }
  t.deepEqual(h.writes.at(-1), [
    "default/dir",
    ANNOTATION_NLS_ALLOCATION,
    JSON.stringify({ node: "n1", volumeType: "MountPoint", mountPoint: "/mnt/open-local/hdd-0", bytes: 80 * Gi }),
  ]);
  // The only hdd mount point is taken: the second one is refused as Insufficient (the pod is rescheduled).
  select(h, "n1", "dir-2");
  const second = await post(reserveUrl(h, "dir-2", "volumeType=MountPoint&nodeName=n1"), "");
  t.is(second.status, 500);
  t.is(
    await second.text(),
    "Insufficient MountPoint storage on node n1 for 80Gi: no free mount points for hdd ≥ 80Gi (free mount points: none) (held by allocated default/dir 80Gi (/mnt/open-local/hdd-0))",
  );
});

/**
 * open-local's CSI driver reschedules the pod only when the error text contains `Insufficient`; any
 * other error is retried on the same node forever. Every refusal for want of space on the node must
 * say it, and no other refusal may.
 */
test("reserve: every refusal for lack of space on the node says Insufficient, and no other does", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  h.store.applyStorageClass(storageClass("ssd", { volumeType: "Device", mediaType: "ssd" }));
  h.store.applyStorageClass(storageClass("mp", { volumeType: "MountPoint" }));
  h.store.applyPvc(pvc("default", "raw", { className: "ssd", size: "1Gi" }));
  h.store.applyPvc(pvc("default", "dir", { className: "mp", size: "1Gi" }));
  h.store.applyPvc(pvc("default", "huge", { className: "lvm", size: "1Ti" }));
  h.store.applyPvc(pvc("default", "sizeless", { className: "lvm" }));
  // [claim, query, status, for lack of space]
  const cases: Array<[string, string, number, boolean]> = [
    ["huge", "nodeName=n1&volumeType=LVM", 500, true],
    ["data", "nodeName=n2&volumeType=LVM", 500, true],
    ["data", "nodeName=n1&volumeType=LVM&vgName=pool-9", 500, true],
    ["data", "nodeName=no-such-node&volumeType=LVM", 500, true],
    ["raw", "nodeName=n1&volumeType=Device", 500, true],
    ["dir", "nodeName=n1&volumeType=MountPoint", 500, true],
    ["data", "volumeType=LVM", 400, false],
    ["data", "nodeName=n1&volumeType=Tape", 400, false],
    ["sizeless", "nodeName=n1&volumeType=LVM", 400, false],
    ["missing", "nodeName=n1&volumeType=LVM", 404, false],
  ];
  for (const [claim, query, status, space] of cases) {
    // kube-scheduler selected the node the driver asks about (the reserve route checks that first).
    const node = new URLSearchParams(query).get("nodeName");
    if (node && claim !== "missing") select(h, node, claim);
    const res = await post(reserveUrl(h, claim, query), "");
    t.is(res.status, status, `${claim}?${query}`);
    const text = await res.text();
    if (space) t.regex(text, /^Insufficient /, `${claim}?${query}`);
    else t.notRegex(text, /Insufficient/, `${claim}?${query}`);
  }
  t.deepEqual(h.writes, [], "no refusal wrote anything");
});

test("reserve: a failed annotation write keeps the allocation and a retry persists it", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  select(h, "n1");
  h.failWrites(true);
  const res = await post(reserveUrl(h, "data", "nodeName=n1"), "");
  t.is(res.status, 500);
  t.regex(await res.text(), /could not persist it on default\/data: apiserver unavailable/);
  h.failWrites(false);
  const retry = await post(reserveUrl(h, "data", "nodeName=n1"), "");
  t.is(retry.status, 200);
  t.is(h.writes.length, 1);
});

test("reserve: bad parameters and unknown PVCs", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  const missingNode = await post(reserveUrl(h, "data", ""), "");
  t.is(missingNode.status, 400);
  t.is(await missingNode.text(), "query parameter nodeName is required");
  const badType = await post(reserveUrl(h, "data", "nodeName=n1&volumeType=Tape"), "");
  t.is(badType.status, 400);
  const unknown = await post(reserveUrl(h, "nope", "nodeName=n1"), "");
  t.is(unknown.status, 404);
  t.regex(await unknown.text(), /default\/nope not found/);
});

test("a standby is ready but answers 503 with its reason on every deciding route", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  h.setStandby("standby: lease kube-system/nls-extender is held by other");
  t.is((await fetch(`${h.url}/readyz`)).status, 200);
  for (const verb of ["predicates", "priorities"]) {
    const res = await post(`${h.url}/scheduler/${verb}`, namesBody(["data"], ["n1"]));
    t.is(res.status, 503);
    // The caller reconnects, through the Service, to whoever leads now.
    t.is(res.headers.get("connection"), "close");
    t.regex(((await res.json()) as { Error: string }).Error, /held by other/);
  }
  const reserve = await post(reserveUrl(h, "data", "nodeName=n1"), "");
  t.is(reserve.status, 503);
  t.deepEqual(h.writes, []);
  t.is(h.store.ledger.liveReservations, 0);
  h.setStandby(undefined);
  t.is((await post(`${h.url}/scheduler/predicates`, namesBody(["data"], ["n1"]))).status, 200);
  t.is((await fetch(`${h.url}/readyz`)).status, 200);
});

test("reserve acts only for a pending claim selected for that node and used by a waiting pod (409 otherwise)", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  const refused = async (query: string, message: RegExp, name = "data") => {
    const res = await post(reserveUrl(h, name, query), "");
    t.is(res.status, 409, query);
    t.regex(await res.text(), message, query);
  };
  await refused(
    "nodeName=n1",
    /^reserve refused: pvc default\/data has no volume.kubernetes.io\/selected-node annotation/,
  );
  select(h, "n2");
  await refused("nodeName=n1", /selected for node n2, not n1/);
  await refused("nodeName=n2&volumeType=Device", /volumeType Device contradicts its StorageClass lvm \(LVM\)/);
  // A claim no waiting pod uses: another tenant's pending PVC cannot be pinned by a made-up call.
  h.store.applyPvc(pvc("default", "idle", { className: "lvm", size: "1Gi", selectedNode: "n1" }));
  await refused("nodeName=n1", /no pod waiting to be scheduled uses pvc default\/idle/, "idle");
  h.store.applyPvc(pvc("default", "data", { className: "lvm", size: "30Gi", selectedNode: "n1", volumeName: "pv-x" }));
  await refused("nodeName=n1", /already bound to volume pv-x/);
  t.deepEqual(h.writes, [], "nothing was annotated");
  t.is(h.store.ledger.source("default/idle", "allocation"), undefined, "nothing was allocated");
});

test("operational routes: healthz, readyz, version, 404; /cache only on the debug listener", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  t.is(await (await fetch(`${h.url}/healthz`)).text(), "ok");
  t.is((await fetch(`${h.url}/readyz`)).status, 200);
  h.setReady(false);
  const unsynced = await fetch(`${h.url}/readyz`);
  t.is(unsynced.status, 503);
  t.is(await unsynced.text(), "caches not synced yet");
  const verbose = await fetch(`${h.url}/readyz?verbose`);
  t.is(verbose.status, 503);
  t.is(await verbose.text(), "[-]ready failed: caches not synced yet\nreadyz check failed\n");
  t.deepEqual(await (await fetch(`${h.url}/version`)).json(), { version: "test", commit: "abc123" });
  t.is((await fetch(`${h.url}/nope`)).status, 404);
  t.is((await fetch(`${h.url}/cache`)).status, 404, "no ledger on the public port");
  const debug = await listen(createDebugApp(h.ctx), 0, "127.0.0.1");
  t.teardown(() => debug.close());
  const cache = (await (await fetch(`http://127.0.0.1:${debug.port}/cache?nodeName=n2`)).json()) as {
    settings: unknown;
    nodes: Record<string, unknown>;
    ledger: { nodes: Record<string, unknown> };
  };
  // The defaults of a ClusterStore, and the harness' 60 s TTL: what `kubectl nls` decides with.
  t.deepEqual(cache.settings, {
    strategy: "binpack",
    leaseMode: "required",
    leaseNamespace: DEFAULT_LEASE_NAMESPACE,
    reservationTtlSeconds: 60,
  });
  t.deepEqual(Object.keys(cache.nodes), ["n2"]);
  t.deepEqual(cache.ledger.nodes, { n2: { vgs: { "pool-0": 140 * Gi }, devices: {}, unplaced: 0 } });
  t.is((await fetch(`http://127.0.0.1:${debug.port}/scheduler/predicates`, { method: "POST" })).status, 404);
});

test("the reserve listener serves the reserve route and nothing else", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  select(h, "n1");
  const reserve = await listen(createReserveApp(h.ctx), 0, "127.0.0.1");
  t.teardown(() => reserve.close());
  const base = `http://127.0.0.1:${reserve.port}`;
  const ok = await post(`${base}/apis/scheduling/default/persistentvolumeclaims/data?nodeName=n1`, "");
  t.is(ok.status, 200, await ok.clone().text());
  t.like(await ok.json(), { node: "n1", persistentVolumeClaim: "default/data" });
  t.is((await post(`${base}/scheduler/predicates`, namesBody([], ["n1"]))).status, 404);
  t.is((await fetch(`${base}/cache`)).status, 404);
  t.is((await fetch(`${base}/metrics`)).status, 404);
});

async function scrapeAfterOneFilter(): Promise<string> {
  const h = await start();
  try {
    await post(`${h.url}/scheduler/predicates`, namesBody(["data"], ["n1", "n2"]));
    return await (await fetch(`${h.url}/metrics`)).text();
  } finally {
    h.server.close();
  }
}

test("metrics keep open-local's names", async (t) => {
  const text = await scrapeAfterOneFilter();
  for (const line of [
    'local_volume_group_total{nodename="n2",vgname="pool-0"} 161061273600',
    'local_volume_group_used{nodename="n2",vgname="pool-0"} 150323855360',
    'local_local_pv{nodename="n2",pv_name="pv-big",pv_type="LVM",pvc_name="",pvc_ns="",status="Available",storage_name="pool-0"} 150323855360',
    'nls_extender_failed_nodes_total{reason="capacity"} 1',
    `nls_extender_build_info{version="test",revision="abc123",nodejs="${process.version}"} 1`,
    "nls_extender_reservations 1",
    'nls_extender_reservation_releases_total{cause="ttl"} 0',
    'nls_extender_request_duration_seconds_count{verb="filter"} 1',
  ]) {
    t.true(text.includes(line), line);
  }
  for (const name of ["local_device_bind", "local_mount_point_bind", "local_volume_group_used", "local_local_pv"]) {
    t.true(text.includes(`# TYPE ${name} gauge`), name);
  }
  for (const name of ["local_volume_group_total", "local_device_total", "local_mount_point_total"]) {
    t.true(text.includes(`# TYPE ${name} untyped`), name);
  }
});

test("a scrape of several hundred KiB arrives whole, its length declared", async (t) => {
  const h = await start();
  try {
    for (let i = 0; i < 3000; i++) {
      h.store.applyNls(nls(`big-${i}`, { vgs: [{ name: "pool-0", allocatable: 100 * Gi }] }));
      h.store.applyPv(pv(`pv-${i}`, { node: `big-${i}`, size: "1Gi", vgName: "pool-0" }));
    }
    const res = await fetch(`${h.url}/metrics`);
    const bytes = Buffer.from(await res.arrayBuffer());
    t.true(bytes.length > 512 * 1024, `${bytes.length} bytes: several turns of writing`);
    t.is(res.headers.get("content-length"), String(bytes.length));
    t.is(bytes.toString(), await h.ctx.metrics.render());
  } finally {
    h.server.close();
  }
});

const hasPromtool = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
const promtoolTest = hasPromtool || process.env.NLS_REQUIRE_REAL_TOOLS === "1" ? test : test.skip;
promtoolTest("promtool check metrics accepts the exposition text", async (t) => {
  t.true(hasPromtool, "promtool is required (NLS_REQUIRE_REAL_TOOLS=1) but not on PATH");
  const text = await scrapeAfterOneFilter();
  const promtool = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  t.is(promtool.status, 0, promtool.stdout + promtool.stderr);
});

test("repeated large node lists (the decode cache path) answer exactly as the first time", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  const names = ["n1", "n2", ...Array.from({ length: 400 }, (_, i) => `worker-${i}.cluster.internal`)];
  for (let i = 0; i < 4; i++) {
    const pass = await post(`${h.url}/scheduler/predicates`, namesBody(["other"], names));
    t.deepEqual(((await pass.json()) as { NodeNames: string[] }).NodeNames, names);
    const local = (await (await post(`${h.url}/scheduler/predicates`, namesBody(["data"], names))).json()) as {
      NodeNames: string[];
      FailedAndUnresolvableNodes: Record<string, string>;
    };
    t.deepEqual(local.NodeNames, ["n1"]);
    t.is(Object.keys(local.FailedAndUnresolvableNodes).length, names.length - 1);
    const scores = (await (await post(`${h.url}/scheduler/priorities`, namesBody(["data"], names))).json()) as Array<{
      Host: string;
      Score: number;
    }>;
    t.deepEqual(scores, [{ Host: "n1", Score: 10 }]);
  }
});

test("large node lists in another order every time (as kube-scheduler sends them) answer as a full decode would", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  const base = ["n1", "n2", ...Array.from({ length: 400 }, (_, i) => `worker-${i}.cluster.internal`)];
  // Rotations: the same nodes, never the same list twice in a row.
  for (let i = 0; i < 6; i++) {
    const names = [...base.slice(i * 7), ...base.slice(0, i * 7)];
    const pass = await post(`${h.url}/scheduler/predicates`, namesBody(["other"], names));
    t.regex(pass.headers.get("content-type") ?? "", /^application\/json/);
    const text = await pass.text();
    t.is(Number(pass.headers.get("content-length")), Buffer.byteLength(text), "its length declared");
    t.deepEqual(JSON.parse(text), {
      NodeNames: names,
      Nodes: null,
      FailedNodes: {},
      FailedAndUnresolvableNodes: {},
      Error: "",
    });
    t.deepEqual(await (await post(`${h.url}/scheduler/priorities`, namesBody(["other"], names))).json(), []);
    const local = (await (await post(`${h.url}/scheduler/predicates`, namesBody(["data"], names))).json()) as {
      NodeNames: string[];
      FailedAndUnresolvableNodes: Record<string, string>;
    };
    t.deepEqual(local.NodeNames, ["n1"]);
    t.is(Object.keys(local.FailedAndUnresolvableNodes).length, names.length - 1);
    const scores = await (await post(`${h.url}/scheduler/priorities`, namesBody(["data"], names))).json();
    t.deepEqual(scores, [{ Host: "n1", Score: 10 }]);
  }
});

test("prioritize right after filter for the same pod answers as a fresh prioritize would", async (t) => {
  const a = await start();
  const b = await start();
  t.teardown(() => Promise.all([a.server.close(), b.server.close()]));
  for (const h of [a, b]) h.store.applyNls(nls("n3", { vgs: [{ name: "pool-0", allocatable: 500 * Gi }] }));
  for (const h of [a, b]) h.store.applyLease(lease("n3", new Date(now)));
  const filtered = (await (
    await post(`${a.url}/scheduler/predicates`, namesBody(["data"], ["n1", "n2", "n3"]))
  ).json()) as {
    NodeNames: string[];
  };
  t.deepEqual(filtered.NodeNames, ["n1", "n3"]);
  const after = await (await post(`${a.url}/scheduler/priorities`, namesBody(["data"], filtered.NodeNames))).json();
  const fresh = await (await post(`${b.url}/scheduler/priorities`, namesBody(["data"], filtered.NodeNames))).json();
  t.deepEqual(after, fresh);
  t.deepEqual(a.store.ledger.snapshot(), b.store.ledger.snapshot(), "the same reservation was held");
});

test("an NLS change between filter and prioritize is not hidden by filter's scores", async (t) => {
  const h = await start();
  t.teardown(() => h.server.close());
  h.store.applyNls(nls("n3", { vgs: [{ name: "pool-0", allocatable: 500 * Gi }] }));
  h.store.applyLease(lease("n3", new Date(now)));
  const filtered = (await (await post(`${h.url}/scheduler/predicates`, namesBody(["data"], ["n1", "n3"]))).json()) as {
    NodeNames: string[];
  };
  t.deepEqual(filtered.NodeNames, ["n1", "n3"]);
  // n3 shrinks to 40Gi: binpack now prefers it (30Gi of 40Gi) over n1 (30Gi of 150Gi).
  h.store.applyNls(nls("n3", { vgs: [{ name: "pool-0", allocatable: 40 * Gi }] }));
  const scores = await (await post(`${h.url}/scheduler/priorities`, namesBody(["data"], filtered.NodeNames))).json();
  t.deepEqual(scores, [{ Host: "n3", Score: 10 }]);
});

test("--placement=decide: filter answers with the one node it holds the volumes on", async (t) => {
  const h = await start(undefined, "decide");
  t.teardown(() => h.server.close());
  h.store.applyNls(nls("n3", { vgs: [{ name: "pool-0", allocatable: 500 * Gi }] }));
  h.store.applyLease(lease("n3", new Date(now)));
  const body = (await (
    await post(`${h.url}/scheduler/predicates`, namesBody(["data"], ["n3", "n1", "n2"]))
  ).json()) as {
    NodeNames: string[];
    FailedAndUnresolvableNodes: Record<string, string>;
  };
  // binpack: 30Gi of 150Gi on n1 beats 30Gi of 500Gi on n3.
  t.deepEqual(body.NodeNames, ["n1"]);
  t.false("n3" in body.FailedAndUnresolvableNodes, "a node that fits is left out, not failed");
  t.is(body.FailedAndUnresolvableNodes.n2, "insufficient local storage (LVM)");
  t.is(h.store.ledger.tentativeOf("default/data")?.node, "n1");
  // Asked again (the pod retried), it keeps its choice: its own reservation does not count against it.
  const again = (await (await post(`${h.url}/scheduler/predicates`, namesBody(["data"], ["n3", "n1"]))).json()) as {
    NodeNames: string[];
  };
  t.deepEqual(again.NodeNames, ["n1"]);
  t.is(h.store.ledger.liveReservations, 1);
});

test("the server makes each request and response with its app's prototypes: express finds nothing to change", async (t) => {
  const app = express();
  app.get("/shape", (req, res) => void res.json({ path: req.path, app: req.app === app }));
  const server = await listen(app, 0, "127.0.0.1");
  t.teardown(() => server.close());
  const seen: boolean[] = [];
  // Before express handles it, as the server made it.
  server.server.prependListener("request", (req, res) =>
    seen.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response),
  );
  const res = await fetch(`http://127.0.0.1:${server.port}/shape`);
  t.deepEqual(await res.json(), { path: "/shape", app: true }, "express's own request and response methods still work");
  t.deepEqual(seen, [true]);
  // Each app gets its own shapes: a second app on another server is not handed the first one's.
  const other = express();
  const shaped = expressShaped(other);
  t.is(shaped.IncomingMessage.prototype as unknown, other.request as unknown);
  t.not(other.request as unknown, app.request as unknown);
  // The same app served again (another listener) keeps its classes: no second subclass in the chain.
  const again = await listen(app, 0, "127.0.0.1");
  t.teardown(() => again.close());
  t.is(expressShaped(app).IncomingMessage.prototype as unknown, app.request as unknown);
  const viaAgain: boolean[] = [];
  again.server.prependListener("request", (req) => viaAgain.push(Object.getPrototypeOf(req) === app.request));
  t.deepEqual(await (await fetch(`http://127.0.0.1:${again.port}/shape`)).json(), { path: "/shape", app: true });
  t.deepEqual(viaAgain, [true]);
  t.is(Object.getPrototypeOf(Object.getPrototypeOf(app.request)), express.request, "one level above express's own");
});
