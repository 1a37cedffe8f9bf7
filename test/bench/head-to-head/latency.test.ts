import test from "ava";
import { percentile, summarize } from "./latency.js";

const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
const cases: Array<[string, number[], number, number]> = [
  ["p50 of 1..100", hundred, 50, 50],
  ["p99 of 1..100", hundred, 99, 99],
  ["p100 is the largest", hundred, 100, 100],
  ["p0 is the smallest", hundred, 0, 1],
  ["one sample is every percentile", [7], 99, 7],
  ["p99 of 10 samples is the largest (nearest rank)", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99, 10],
  ["p50 of 4 samples is the second", [1, 2, 3, 4], 50, 2],
];
for (const [name, sorted, p, expected] of cases)
  test(`percentile: ${name}`, (t) => t.is(percentile(sorted, p), expected));

test("percentile of nothing is NaN", (t) => t.true(Number.isNaN(percentile([], 50))));

test("summarize: sorts, counts and rates over the wall time", (t) => {
  t.deepEqual(summarize([5, 1, 3, 2, 4], 2), { requests: 5, perSecond: 2.5, p50Ms: 3, p99Ms: 5, maxMs: 5 });
  const none = summarize([], 1);
  t.is(none.requests, 0);
  t.true(Number.isNaN(none.p50Ms) && Number.isNaN(none.maxMs));
});
