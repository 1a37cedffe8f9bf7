import test from "ava";
import { ReviewCache } from "./review-cache.js";

test("answers live for their own TTL: a denial is forgotten sooner", (t) => {
  const cache = new ReviewCache<boolean>((ok) => (ok ? 1000 : 100));
  cache.set("yes", true, 0);
  cache.set("no", false, 0);
  t.is(cache.get("yes", 999), true);
  t.is(cache.get("no", 99), false);
  t.is(cache.get("no", 100), undefined);
  t.is(cache.get("yes", 1000), undefined);
  t.is(cache.size, 0, "expired entries are dropped when read");
});

test("bounded: the oldest entry makes room, re-setting a key refreshes it", (t) => {
  const cache = new ReviewCache<number>(() => 1000, 2);
  cache.set("a", 1, 0);
  cache.set("b", 2, 0);
  cache.set("a", 3, 0); // a is now the newest
  cache.set("c", 4, 0);
  t.is(cache.get("b", 1), undefined);
  t.is(cache.get("a", 1), 3);
  t.is(cache.get("c", 1), 4);
  t.is(cache.size, 2);
});
