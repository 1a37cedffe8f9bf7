import test from "ava";
import { cpuMsPerPod, machineBusyTicks, MACHINE, statCpuTicks, statRssPages } from "./process-cpu.js";

const tail = "S 1 1 1 0 -1 4194560 500 0 0 0 1234 567 0 0 20 0 12 0 100 2000000 300 18446744073709551615";

for (const [what, line, ticks] of [
  ["a plain comm", `4242 (etcd) ${tail}`, 1801],
  ["a comm with a space", `4242 (kube apiserver) ${tail}`, 1801],
  ["a comm with parentheses", `4242 (a) b (c)) ${tail}`, 1801],
  ["a comm that looks like fields", `4242 (x) S 1 1 1 0 9 9 9 9 9 9 9 9) ${tail}`, 1801],
  ["a trailing newline", `4242 (node) ${tail}\n`, 1801],
  ["zero CPU", `7 (k) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 10 1`, 0],
] as const) {
  test(`statCpuTicks: utime + stime of ${what}`, (t) => {
    t.is(statCpuTicks(line), ticks);
  });
  test(`statRssPages: rss of ${what}`, (t) => {
    t.is(statRssPages(line), ticks === 0 ? 1 : 300);
  });
}

for (const [what, line] of [
  ["no comm", "4242 etcd S 1 1"],
  ["too few fields", "4242 (etcd) S 1 1 1"],
  ["a non-number utime", `4242 (etcd) S 1 1 1 0 -1 0 0 0 0 0 x 5 0 0 20`],
] as const) {
  test(`statCpuTicks refuses ${what}`, (t) => {
    t.throws(() => statCpuTicks(line));
  });
  test(`statRssPages refuses ${what}`, (t) => {
    t.throws(() => statRssPages(line));
  });
}

test("machineBusyTicks: user, nice, system, irq, softirq and steal; not idle or iowait", (t) => {
  const stat = "cpu  100 20 30 5000 700 4 6 8 50 0\ncpu0 50 10 15 2500 350 2 3 4 25 0\nintr 1\n";
  t.is(machineBusyTicks(stat), 100 + 20 + 30 + 4 + 6 + 8);
  t.is(machineBusyTicks("cpu  1 2 3 4 5 6 7\n"), 1 + 2 + 3 + 6 + 7);
  t.throws(() => machineBusyTicks("cpu0 1 2 3 4 5 6 7 8\n"));
  t.throws(() => machineBusyTicks("cpu  1 2\n"));
});

test("cpuMsPerPod: each process's CPU over the pods, the rest of the machine as others", (t) => {
  const before = { etcd: 10, "kube-scheduler": 1, [MACHINE]: 100 };
  const after = { etcd: 12, "kube-scheduler": 5, bench: 3, [MACHINE]: 110 };
  // bench has no first sample (started later): left out, and so counted in others.
  t.deepEqual(cpuMsPerPod(before, after, 1000), { etcd: 2, "kube-scheduler": 4, others: 4 });
  t.deepEqual(cpuMsPerPod({ etcd: 1 }, { etcd: 1.5 }, 100), { etcd: 5 });
});
