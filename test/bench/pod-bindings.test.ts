import test from "ava";
import { FakeKubeApi, until } from "../e2e/fake-kube-api.js";
import { watchBindings } from "./pod-bindings.js";

const PODS = "/api/v1/namespaces/bench/pods";
const pod = (name: string, nodeName?: string) => ({ metadata: { name }, spec: nodeName ? { nodeName } : {} });

test("counts each pod once, at its first bound event, and resolves when all are bound", async (t) => {
  const api = new FakeKubeApi();
  const seen: number[] = [];
  const w = watchBindings(api, "bench", 3, (n) => seen.push(n));
  t.deepEqual(api.watched, [`${PODS}?resourceVersion=0`], "served from the watch cache at once");
  api.emit(PODS, "ADDED", pod("a"));
  api.emit(PODS, "MODIFIED", pod("a", "n1"));
  api.emit(PODS, "MODIFIED", pod("a", "n1"));
  api.emit(PODS, "ADDED", pod("b", "n2"));
  t.is(w.count(), 2);
  t.deepEqual(seen, [1, 2]);
  api.emit(PODS, "ADDED", pod("c", "n1"));
  const times = await w.times;
  t.is(times.length, 3);
  t.deepEqual(
    times,
    [...times].sort((x, y) => x - y),
  );
  t.deepEqual(seen, [1, 2, 3]);
  t.is(api.open(PODS).length, 0, "the watch is closed once every pod is bound");
});

test("reopens after an ERROR event and after the stream ends, still from the watch cache, counting what it missed", async (t) => {
  const api = new FakeKubeApi();
  const w = watchBindings(api, "bench", 3);
  api.emit(PODS, "ADDED", pod("a", "n1"));
  api.emit(PODS, "ERROR", { kind: "Status", code: 410 });
  // Events after the error on the dead watch are not trusted.
  api.emit(PODS, "ADDED", pod("b", "n1"));
  t.is(w.count(), 1);
  await until(() => api.watched.length === 2);
  t.is(api.watched[1], `${PODS}?resourceVersion=0`);
  // The new watch starts with every pod as the cache holds it: b is bound by now.
  api.emit(PODS, "ADDED", pod("a", "n1"));
  api.emit(PODS, "ADDED", pod("b", "n1"));
  t.is(w.count(), 2);
  api.end(PODS, new Error("connection reset"));
  await until(() => api.watched.length === 3);
  api.emit(PODS, "ADDED", pod("c", "n2"));
  t.is((await w.times).length, 3);
});

test("stop closes the watch, and a reopen already due opens nothing", async (t) => {
  const api = new FakeKubeApi();
  const w = watchBindings(api, "bench", 2);
  api.emit(PODS, "ERROR", { kind: "Status", code: 410 });
  w.stop();
  t.is(api.open(PODS).length, 0);
  await new Promise((r) => setTimeout(r, 700));
  t.deepEqual(api.watched.length, 1, "no watch opened after stop");
});
