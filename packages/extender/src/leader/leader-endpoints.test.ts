import test from "ava";
import { createLogger } from "@nls/daemon";
import { selfEndpoint, type Self, type SliceEndpoint, type SliceView } from "./endpoint-slice.js";
import { LeaderEndpoints, type SliceStore, type StoredSlice } from "./leader-endpoints.js";

const log = createLogger("test", "silent");
const a: Self = { ip: "10.0.0.1", podName: "ext-a", podNamespace: "kube-system" };
const b: Self = { ip: "10.0.0.2", podName: "ext-b", podNamespace: "kube-system" };

/** Slices in memory with the API server's optimistic concurrency; `beforeWrite` lets a test race a write. */
function apiServer(addressType = "IPv4") {
  const slices = new Map<string, StoredSlice>();
  let version = 0;
  const writes: string[] = [];
  let failing = false;
  let beforeWrite: (() => void) | undefined;
  const put = (name: string, view: SliceView) => slices.set(name, { view, resourceVersion: String(++version) });
  const store: SliceStore = {
    ref: (name) => `kube-system/${name}`,
    async read(name) {
      if (failing) throw new Error("connection refused");
      const s = slices.get(name);
      if (!s) throw Object.assign(new Error(`endpointslices "${name}" not found`), { code: 404 });
      return structuredClone(s);
    },
    async writeEndpoints(name, endpoints: SliceEndpoint[], resourceVersion) {
      if (failing) throw new Error("connection refused");
      const hook = beforeWrite;
      beforeWrite = undefined;
      hook?.();
      const s = slices.get(name)!;
      if (s.resourceVersion !== resourceVersion) throw Object.assign(new Error("409 Conflict"), { code: 409 });
      writes.push(`${name}:${endpoints.flatMap((e) => e.addresses).join(",")}`);
      put(name, { addressType: s.view.addressType, endpoints: structuredClone(endpoints) });
      return structuredClone(slices.get(name)!);
    },
  };
  put("nls-extender", { addressType, endpoints: [] });
  put("open-local-scheduler-extender", { addressType, endpoints: [] });
  const addresses = (name: string) => slices.get(name)!.view.endpoints?.flatMap((e) => e.addresses);
  return {
    store,
    writes,
    put,
    addresses,
    fail: (on: boolean) => (failing = on),
    raceNextWrite: (fn: () => void) => (beforeWrite = fn),
  };
}

const NAMES = ["nls-extender", "open-local-scheduler-extender"];

test("a new leader does not serve until every slice names it; then it writes nothing more", async (t) => {
  const api = apiServer();
  const e = new LeaderEndpoints(api.store, NAMES, a, log, () => true);
  t.regex(
    e.problem(1)!,
    /EndpointSlices kube-system\/nls-extender, kube-system\/open-local-scheduler-extender do not name this replica \(10\.0\.0\.1\)/,
  );
  await e.publish(1);
  t.is(e.problem(1), undefined);
  t.deepEqual(api.addresses("nls-extender"), ["10.0.0.1"]);
  t.deepEqual(api.addresses("open-local-scheduler-extender"), ["10.0.0.1"]);
  await e.publish(1);
  t.is(api.writes.length, 2, "a slice that names it already is left alone");
  t.truthy(e.problem(2), "a later term must publish again");
});

test("a new leader overwrites the dead leader's address at once", async (t) => {
  const api = apiServer();
  api.put("nls-extender", { addressType: "IPv4", endpoints: [selfEndpoint(a)] });
  const e = new LeaderEndpoints(api.store, ["nls-extender"], b, log, () => true);
  await e.publish(1);
  t.deepEqual(api.addresses("nls-extender"), ["10.0.0.2"]);
  t.is(e.problem(1), undefined);
});

test("a late write by an old leader does not stick: the next round takes the slice back", async (t) => {
  const api = apiServer();
  const e = new LeaderEndpoints(api.store, ["nls-extender"], b, log, () => true);
  await e.publish(1);
  api.put("nls-extender", { addressType: "IPv4", endpoints: [selfEndpoint(a)] });
  await e.publish(1);
  t.deepEqual(api.addresses("nls-extender"), ["10.0.0.2"]);
});

test("a write that loses a race decides again on what the other writer left", async (t) => {
  const api = apiServer();
  const e = new LeaderEndpoints(api.store, ["nls-extender"], b, log, () => true);
  api.raceNextWrite(() => api.put("nls-extender", { addressType: "IPv4", endpoints: [selfEndpoint(a)] }));
  await e.publish(1);
  t.deepEqual(api.addresses("nls-extender"), ["10.0.0.2"]);
  t.is(e.problem(1), undefined);
});

test("a replica that no longer leads writes nothing", async (t) => {
  const api = apiServer();
  const e = new LeaderEndpoints(api.store, ["nls-extender"], a, log, () => false);
  await e.publish(1);
  t.deepEqual(api.addresses("nls-extender"), []);
  t.truthy(e.problem(1));
});

test("API errors and a missing slice leave the leader not serving, and a later round recovers", async (t) => {
  const api = apiServer();
  const missing = new LeaderEndpoints(api.store, ["nls-extender", "gone"], a, log, () => true);
  await missing.publish(1);
  t.truthy(missing.problem(1), "one slice of two is not enough");
  const e = new LeaderEndpoints(api.store, ["nls-extender"], a, log, () => true);
  api.fail(true);
  await e.publish(1);
  t.truthy(e.problem(1));
  api.fail(false);
  await e.publish(1);
  t.is(e.problem(1), undefined);
});

test("a slice of the other address family is refused, not written", async (t) => {
  const api = apiServer("IPv6");
  const e = new LeaderEndpoints(api.store, ["nls-extender"], a, log, () => true);
  await e.publish(1);
  t.deepEqual(api.writes, []);
  t.truthy(e.problem(1));
});

test("without slices (a plain local run) there is nothing to wait for", (t) => {
  const api = apiServer();
  const e = new LeaderEndpoints(api.store, [], a, log, () => true);
  t.is(e.problem(1), undefined);
});

test("rounds do not stack up behind a slow API", async (t) => {
  const api = apiServer();
  const e = new LeaderEndpoints(api.store, ["nls-extender"], a, log, () => true);
  e.publishInBackground(1);
  e.publishInBackground(1);
  await e.settled();
  t.deepEqual(api.writes, ["nls-extender:10.0.0.1"]);
});
