import test from "ava";
import { ResourceCache } from "./resource-cache.js";

interface Obj {
  metadata: { uid: string; resourceVersion?: string; name: string };
  tags?: string[];
}
const obj = (uid: string, resourceVersion: string, tags: string[] = []): Obj => ({
  metadata: { uid, resourceVersion, name: `name-${uid}` },
  tags,
});

test("an update older than the cached object is kept out; a newer one replaces it and its index keys", (t) => {
  const cache = new ResourceCache<Obj>((o) => o.tags ?? []);
  t.true(cache.upsert(obj("a", "10", ["x"])));
  t.false(cache.upsert(obj("a", "9", ["y"])));
  t.is(cache.get("a")?.metadata.resourceVersion, "10");
  t.deepEqual(
    cache.byIndex("x").map((o) => o.metadata.uid),
    ["a"],
  );
  t.deepEqual(cache.byIndex("y"), []);
  t.true(cache.upsert(obj("a", "11", ["y"])));
  t.deepEqual(cache.byIndex("x"), []);
  t.deepEqual(
    cache.byIndex("y").map((o) => o.metadata.resourceVersion),
    ["11"],
  );
});

test("a deletion removes the object and its index keys; deleting the unknown changes nothing", (t) => {
  const cache = new ResourceCache<Obj>((o) => o.tags ?? []);
  cache.upsert(obj("a", "10", ["x"]));
  cache.upsert(obj("b", "11", ["x"]));
  t.is(cache.remove("a")?.metadata.uid, "a");
  t.is(cache.remove("a"), undefined);
  t.is(cache.size, 1);
  t.deepEqual(
    cache.byIndex("x").map((o) => o.metadata.uid),
    ["b"],
  );
});

test("a list replaces the cache: what it lacks is removed, what it holds is taken unless the cache's is newer", (t) => {
  const cache = new ResourceCache<Obj>();
  cache.upsert(obj("gone", "5"));
  cache.upsert(obj("kept", "20"));
  cache.upsert(obj("changed", "6"));
  const { changed, removed } = cache.replace([obj("kept", "19"), obj("changed", "21"), obj("new", "21")]);
  t.deepEqual(
    removed.map((o) => o.metadata.uid),
    ["gone"],
  );
  t.deepEqual(
    changed.map((o) => o.metadata.uid),
    ["changed", "new"],
  );
  t.deepEqual([...cache.values()].map((o) => `${o.metadata.uid}@${o.metadata.resourceVersion}`).sort(), [
    "changed@21",
    "kept@20",
    "new@21",
  ]);
});
