import test from "ava";
import { WorkQueue } from "./work-queue.js";

test("a key added again before it is taken is queued once, in its first place", async (t) => {
  const q = new WorkQueue<string>();
  for (const k of ["a", "b", "a", "c", "b"]) q.add(k);
  t.is(q.length, 3);
  t.deepEqual([await q.next(), await q.next(), await q.next()], ["a", "b", "c"]);
});

test("a key added while a worker holds it is not handed out twice, and is queued again when done", async (t) => {
  const q = new WorkQueue<string>();
  q.add("a");
  const held = await q.next();
  q.add("a");
  q.add("a");
  t.is(q.length, 0, "not handed to a second worker");
  q.done(held!);
  t.is(q.length, 1);
  t.is(await q.next(), "a");
  q.done("a");
  t.is(q.length, 0, "done without a new add: not queued again");
});

test("a waiting worker gets the next key added; shutdown wakes waiters with undefined and drops the queue", async (t) => {
  const q = new WorkQueue<string>();
  const waiting = q.next();
  q.add("a");
  t.is(await waiting, "a");
  const idle = q.next();
  q.shutdown();
  t.is(await idle, undefined);
  q.add("b");
  t.is(await q.next(), undefined);
});
