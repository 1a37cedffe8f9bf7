import test from "ava";
import {
  agentRows,
  extenderRows,
  headToHeadRows,
  schedulerRows,
  sectionNotes,
  soakRows,
} from "../../bench/targets.mjs";

const verdicts = (rows: Array<{ measure: string; verdict: string }>) =>
  Object.fromEntries(rows.filter((r) => r.verdict).map((r) => [r.measure, r.verdict]));

const scenario = (title: string, p99: number) => ({ title, p50: 1, p99, rps: 100, errors: 0 });

test("extender: each p99 and the scrape's event-loop block against the targets", (t) => {
  const rows = extenderRows({
    configs: [
      {
        vgs: 2,
        scenarios: [
          scenario("filter, 4 PVCs", 5),
          scenario("prioritize, 4 PVCs (all nodes)", 5.1),
          scenario("filter, no local PVCs (pass-through)", 2),
        ],
        scrape: { loopMaxMs: 4, bytes: 2 ** 21 },
      },
      {
        vgs: 4,
        scenarios: [],
        // Judged by the longest turn's CPU time, not the wall-clock block a loaded machine inflates.
        scrape: { loopMaxMs: 40, quietLoopMaxMs: 30, turnCpuMaxMs: 3, bytes: 2 ** 21 },
      },
      { vgs: 8, scenarios: [], scrape: { loopMaxMs: 1, turnCpuMaxMs: 6 } },
      // The loop's own thread when measured: helper threads' CPU (6 ms here) does not block the loop.
      { vgs: 16, scenarios: [], scrape: { loopMaxMs: 9, turnCpuMaxMs: 6, turnMainMaxMs: 2.5 } },
      { vgs: 32, scenarios: [], scrape: { loopMaxMs: 9, turnCpuMaxMs: 6, turnMainMaxMs: 5.5 } },
    ],
  });
  t.deepEqual(verdicts(rows), {
    "filter p99, 4 PVCs, 2 VGs": "met",
    "prioritize p99, 4 PVCs, all nodes, 2 VGs": "not met",
    "pass-through p99 (no local PVCs), 2 VGs": "not met",
    "/metrics scrape: event loop blocked, 2 VGs": "met",
    "filter p99, 4 PVCs, 4 VGs": "n/a",
    "prioritize p99, 4 PVCs, all nodes, 4 VGs": "n/a",
    "pass-through p99 (no local PVCs), 4 VGs": "n/a",
    "/metrics scrape: event loop blocked, 4 VGs": "met",
    "filter p99, 4 PVCs, 8 VGs": "n/a",
    "prioritize p99, 4 PVCs, all nodes, 8 VGs": "n/a",
    "pass-through p99 (no local PVCs), 8 VGs": "n/a",
    "/metrics scrape: event loop blocked, 8 VGs": "not met",
    "filter p99, 4 PVCs, 16 VGs": "n/a",
    "prioritize p99, 4 PVCs, all nodes, 16 VGs": "n/a",
    "pass-through p99 (no local PVCs), 16 VGs": "n/a",
    "/metrics scrape: event loop blocked, 16 VGs": "met",
    "filter p99, 4 PVCs, 32 VGs": "n/a",
    "prioritize p99, 4 PVCs, all nodes, 32 VGs": "n/a",
    "pass-through p99 (no local PVCs), 32 VGs": "n/a",
    "/metrics scrape: event loop blocked, 32 VGs": "not met",
  });
});

test("extender: failed requests are a row of their own, never met", (t) => {
  const rows = extenderRows({ configs: [{ vgs: 4, scenarios: [{ ...scenario("filter, 4 PVCs", 1), errors: 3 }] }] });
  t.like(
    rows.find((r) => r.measure === "failed requests, 4 VGs"),
    { figure: "3", verdict: "not met" },
  );
});

test("a figure the bench did not report is n/a, not an error", (t) => {
  const rows = extenderRows({ configs: [{ vgs: 2, scenarios: [scenario("filter, 4 PVCs", 1)] }] });
  t.is(verdicts(rows)["prioritize p99, 4 PVCs, all nodes, 2 VGs"], "n/a");
  t.is(verdicts(rows)["/metrics scrape: event loop blocked, 2 VGs"], "n/a");
  t.deepEqual(extenderRows(undefined), []);
  t.deepEqual(agentRows({}), []);
  t.deepEqual(schedulerRows({ results: "not a list" }), []);
  t.deepEqual(soakRows(undefined), []);
});

test("agent: scan time, LVM invocations, and idle RSS in MB only when a bench reports it", (t) => {
  const scan = { devices: 16, vgs: 4, lvs: 500, scanMs: { median: 501, max: 700 }, lvmInvocationsPerScan: 3 };
  t.deepEqual(verdicts(agentRows({ scan })), {
    "one scan (median), 16 devices, 4 VGs, 500 LVs": "not met",
    "LVM invocations per scan": "met",
  });
  // 86 MiB is 90.2 MB: over the 90 MB target.
  t.is(verdicts(agentRows({ scan, "idle-rss": { rssMiB: 86 } }))["agent idle RSS"], "not met");
  t.is(verdicts(agentRows({ scan, "idle-rss": { rssMiB: 85 } }))["agent idle RSS"], "met");
  t.deepEqual(agentRows({ scan: { skipped: "not running as root" } }), []);
});

test("scheduler: each mode's share of the no-extender rate against the targets", (t) => {
  const run = (name: string, extender: string, claimsPerPod: number, podsPerSecond: number) => ({
    name,
    extender,
    claimsPerPod,
    pods: 100,
    podsPerSecond,
  });
  const rows = schedulerRows({
    results: [
      run("none", "none", 0, 100),
      run("every pod", "every pod", 0, 80),
      run("managed", "managed resources", 0, 94),
      run("every pod, PVC", "every pod", 1, 49),
      run("managed, PVC", "managed resources", 4, 75),
      run("a mode without a target", "webhook", 0, 90),
      // The ceiling of any extender: its share is shown, never judged.
      run("null extender, every pod", "null extender", 0, 64),
      // open-local's extender: beside nls, not judged by nls's targets.
      run("open-local, PVC", "open-local", 1, 12),
    ],
  });
  t.deepEqual(verdicts(rows), {
    "every pod (100 pods)": "met",
    "managed (100 pods)": "not met",
    "every pod, PVC (100 pods)": "not met",
    "managed, PVC (100 pods)": "met",
  });
  t.is(rows.find((r) => r.measure.startsWith("a mode"))?.figure, "90.0 pods/s, 90 % of no-extender");
  t.is(rows.find((r) => r.measure.startsWith("null"))?.figure, "64.0 pods/s, 64 % of no-extender");
  t.is(rows.find((r) => r.measure.startsWith("open-local"))?.figure, "12.0 pods/s, 12 % of no-extender");
});

test("scheduler: a PVC scenario is judged against the no-extender run with the same claims per pod", (t) => {
  const run = (name: string, extender: string, claimsPerPod: number, podsPerSecond: number, rounds?: number[]) => ({
    name,
    extender,
    claimsPerPod,
    pods: 100,
    podsPerSecond,
    rounds,
  });
  const rows = schedulerRows({
    results: [
      run("none", "none", 0, 200),
      run("none, 1 PVC", "none", 1, 20),
      run("managed, 1 PVC", "managed resources", 1, 16, [15, 16, 17]),
      run("managed, 4 PVCs", "managed resources", 4, 16),
    ],
  });
  t.deepEqual(verdicts(rows), { "managed, 1 PVC (100 pods)": "met", "managed, 4 PVCs (100 pods)": "not met" });
  t.is(
    rows.find((r) => r.measure.startsWith("managed, 1"))?.figure,
    "16.0 pods/s (median of 15.0, 16.0, 17.0), 80 % of no-extender",
  );
  t.is(rows.find((r) => r.measure.startsWith("managed, 4"))?.figure, "16.0 pods/s, 8 % of no-extender");
});

test("scheduler: without a no-extender run there is no share to judge", (t) => {
  const rows = schedulerRows({
    results: [{ name: "x", extender: "every pod", claimsPerPod: 0, pods: 1, podsPerSecond: 5 }],
  });
  t.is(rows[0]?.verdict, "n/a");
});

test("a skipped part's section has no notes about a setup that never ran", (t) => {
  t.deepEqual(sectionNotes("scheduler", { scheduler: { skipped: "etcd not installed" } }), []);
  t.is(sectionNotes("scheduler", { scheduler: { nodes: 1000, sampling: "100" } }).length, 2);
});

test("scheduler: the notes name open-local's build, or why it was not measured", (t) => {
  const note = (openLocal?: object) => sectionNotes("scheduler", { scheduler: { nodes: 10, openLocal } })[1];
  t.regex(note({ version: "v0.8.0-c0fbee4bf7dc" }) ?? "", /extender v0\.8\.0-c0fbee4bf7dc in the same run/);
  t.is(note({ skipped: "no checkout" }), "open-local's extender not measured: no checkout");
  t.regex(note() ?? "", /not measured \(figures from before/);
});

/** A soak's samples every 10 s: RSS in MiB from `rss(t)`. */
const soak = (seconds: number, rss: (t: number) => number) => ({
  nodes: 5000,
  vgs: 2,
  pvs: 50000,
  seconds,
  samples: Array.from({ length: seconds / 10 }, (_, i) => ({ t: 10 * (i + 1), rssMiB: rss(10 * (i + 1)) })),
});

const soakVerdicts = (figures: unknown) =>
  Object.fromEntries(
    soakRows(figures).map((r: { measure: string; verdict: string }) => [r.measure.split(",")[0], r.verdict]),
  );

test("soak: RSS from minute 2 against 300 MB (not MiB), and its growth to the last minute against 5 MB", (t) => {
  // 280 MiB is 293.6 MB; 290 MiB is 304.1 MB; the first minute (a filling cache) is not judged.
  t.deepEqual(soakVerdicts(soak(600, (s) => (s < 120 ? 400 : s % 20 ? 280 : 283))), {
    "extender RSS": "met",
    "extender RSS growth": "met",
  });
  t.deepEqual(soakVerdicts(soak(600, () => 290)), { "extender RSS": "not met", "extender RSS growth": "met" });
  // Climbing 1 MiB a minute stays under 300 MB yet grows by 8 MiB from minute 2 to minute 10.
  t.deepEqual(soakVerdicts(soak(600, (s) => 270 + s / 60)), {
    "extender RSS": "met",
    "extender RSS growth": "not met",
  });
  // Shorter than three minutes: no growth to judge; shorter than two: nothing.
  t.deepEqual(soakVerdicts(soak(150, () => 250)), { "extender RSS": "met" });
  t.deepEqual(soakRows(soak(100, () => 250)), []);
});

test("extender: the reordered-nodes scenarios, when the bench ran them, are judged as their plain ones", (t) => {
  const rows = extenderRows({
    configs: [
      {
        vgs: 2,
        scenarios: [
          scenario("filter, 4 PVCs", 2),
          scenario("filter, no local PVCs (pass-through)", 0.5),
          scenario("nodes reordered per request: filter, 4 PVCs", 4),
          scenario("nodes reordered per request: filter, no local PVCs (pass-through)", 3),
        ],
      },
      { vgs: 4, scenarios: [scenario("filter, 4 PVCs", 2)] },
    ],
  });
  const v = verdicts(rows);
  t.is(v["filter p99, 4 PVCs, 2 VGs"], "met", "the plain filter row is still the plain scenario's");
  t.is(v["filter p99, 4 PVCs, nodes reordered per request, 2 VGs"], "met");
  t.is(v["pass-through p99 (no local PVCs), 2 VGs"], "met");
  t.is(v["pass-through p99, nodes reordered per request, 2 VGs"], "not met");
  t.false(
    rows.some((r) => r.measure.includes("reordered") && r.measure.endsWith("4 VGs")),
    "no row for a scenario not run",
  );
});

test("head-to-head: a row per node count and request, both extenders in its figure, no target", (t) => {
  const side = (p50Ms: number, p99Ms: number, perSecond: number, nodesAnswered: number) => ({
    p50Ms,
    p99Ms,
    perSecond,
    nodesAnswered,
  });
  const rows = headToHeadRows({
    rows: [
      { nodes: 1000, title: "filter, 4 PVCs", nls: side(0.35, 2.7, 2495, 1), openLocal: side(45, 60, 22.4, 1000) },
      { nodes: 5000, title: "filter, 4 PVCs", nls: side(0.6, 5, 1451, 1) },
    ],
  });
  t.deepEqual(rows[0], {
    measure: "1000 nodes, filter, 4 PVCs (p50 / p99)",
    figure: "nls 0.35 ms / 2.70 ms, 2495/s; open-local 45.00 ms / 60.00 ms, 22.4/s; nodes answered 1 / 1000",
    target: "",
    verdict: "",
  });
  t.regex(rows[1]?.figure ?? "", /open-local not reported; nodes answered 1 \/ \?$/);
  t.deepEqual(headToHeadRows({ skipped: "no open-local" }), []);
});

test("head-to-head: the note names open-local's build", (t) => {
  const [note] = sectionNotes("head-to-head", {
    "head-to-head": { seconds: 15, pods: 200, openLocal: { version: "v0.8.0" } },
  });
  t.is(
    note,
    "over loopback, one connection each, 15 s per figure, 2 VGs per node, 200 pods of 4 PVCs; open-local's extender v0.8.0 in the same run",
  );
  t.deepEqual(sectionNotes("head-to-head", { "head-to-head": { skipped: "no open-local" } }), []);
});
