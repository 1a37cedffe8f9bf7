import test from "ava";
import { sleep, Wakeup } from "./timing.js";

// Every wait here is an hour: each test only finishes because the wait ended early.
const HOUR = 3_600_000;

test("a trigger before the wait makes the next wait return at once, once", async (t) => {
  const wakeup = new Wakeup();
  const stop = new AbortController();
  wakeup.trigger();
  await wakeup.wait(HOUR, stop.signal);
  let woke = false;
  const waiting = wakeup.wait(HOUR, stop.signal).then(() => (woke = true));
  await new Promise((r) => setImmediate(r));
  t.false(woke, "the trigger was used up by the first wait");
  wakeup.trigger();
  await waiting;
  t.true(woke);
});

test("an abort ends a wait and a sleep", async (t) => {
  const wakeup = new Wakeup();
  const stop = new AbortController();
  const waits = Promise.all([wakeup.wait(HOUR, stop.signal), sleep(HOUR, stop.signal)]);
  stop.abort();
  await waits;
  await sleep(HOUR, stop.signal);
  t.pass();
});
