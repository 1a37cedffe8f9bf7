import test from "ava";
import { StartAborted, Teardown } from "./teardown.js";

test("run undoes newest first, reports a failing step and still runs the rest", async (t) => {
  const said: string[] = [];
  const done: string[] = [];
  const td = new Teardown((l) => said.push(l));
  await td.add("dir", async () => done.push("dir"));
  await td.add("loop", async () => {
    throw new Error("busy");
  });
  await td.add("cluster", async () => done.push("cluster"));
  await td.run();
  t.deepEqual(done, ["cluster", "dir"]);
  t.deepEqual(said, ["could not undo loop: busy"]);
  await td.run();
  t.deepEqual(done, ["cluster", "dir"], "each step runs once");
});

test("once closed, what start-up makes next is undone at once and start-up is told to stop", async (t) => {
  const done: string[] = [];
  const td = new Teardown(() => {});
  await td.add("dir", async () => done.push("dir"));
  t.notThrows(() => td.check());
  td.close();
  t.throws(() => td.check(), { instanceOf: StartAborted });
  await t.throwsAsync(
    td.add("cluster", async () => done.push("cluster")),
    { instanceOf: StartAborted },
  );
  t.deepEqual(done, ["cluster"], "the late step is undone; the earlier ones wait for run()");
  await td.run();
  t.deepEqual(done, ["cluster", "dir"]);
});
