import test from "ava";
import { cpuTable, median, medianPerKey } from "./scheduler-figures.js";

test("median: middle value, mean of the two middle ones, NaN of none", (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.true(Number.isNaN(median([])));
});

test("medianPerKey: each key over the records that have it", (t) => {
  t.deepEqual(medianPerKey([{ a: 1, b: 10 }, { a: 3 }, { a: 2, b: 20 }]), { a: 2, b: 15 });
  t.deepEqual(medianPerKey([]), {});
});

test("cpuTable: a column per process, their sum, others last; blank where a row lacks one", (t) => {
  const lines = cpuTable([
    { label: "one", podsPerSecond: 100, cpuMsPerPod: { etcd: 1, others: 5, "kube-scheduler": 2.5 } },
    { label: "two", podsPerSecond: 50.25, cpuMsPerPod: { etcd: 0.5 } },
  ]);
  t.deepEqual(lines, [
    "| CPU ms per pod | pods/s | etcd | kube-scheduler | sum | others |",
    "|---|---|---|---|---|---|",
    "| one | 100.0 | 1.00 | 2.50 | 3.50 | 5.00 |",
    "| two | 50.3 | 0.50 |  | 0.50 |  |",
  ]);
  t.deepEqual(cpuTable([{ label: "x", podsPerSecond: 1, cpuMsPerPod: {} }]).slice(2), ["| x | 1.0 |  |"]);
});
