// The performance targets (README.md, "Performance") beside the figures `pnpm bench` took: pure functions from each part's
// figures (as its bench wrote them) to table rows. A figure a part did not report (an older or newer
// bench, a scenario left out) gives the verdict "n/a", never an error.

/** @typedef {{ measure: string, figure: string, target: string, verdict: string }} Row */

const MET = "met";
const NOT_MET = "not met";
const NO_FIGURE = "n/a";
const NO_TARGET = "";

const isNumber = (x) => typeof x === "number" && Number.isFinite(x);
const ms = (x, digits = 1) => (isNumber(x) ? `${x.toFixed(digits)} ms` : "?");

/** A row judged by "value ≤ limit"; unit is what the figure and the target are written in. */
function atMost(measure, value, limit, unit, detail = "") {
  return {
    measure,
    figure: isNumber(value) ? `${Number(value.toFixed(1))} ${unit}${detail}` : "not reported",
    target: `≤ ${limit} ${unit}`,
    verdict: isNumber(value) ? (value <= limit ? MET : NOT_MET) : NO_FIGURE,
  };
}

const info = (measure, figure) => ({ measure, figure, target: NO_TARGET, verdict: NO_TARGET });

/** The extender's filter/prioritize latency, per VG count. @returns {Row[]} */
export function extenderRows(figures) {
  const rows = [];
  const configs = Array.isArray(figures?.configs) ? figures.configs : [];
  for (const config of configs) {
    const vgs = `${config.vgs} VGs`;
    const scenario = (prefix) => (config.scenarios ?? []).find((s) => String(s.title).startsWith(prefix));
    const latency = (measure, prefix, limit) => {
      const s = scenario(prefix);
      return atMost(
        measure,
        s?.p99,
        limit,
        "ms",
        s ? ` (p50 ${s.p50} ms, ${s.rps} req/s, request CPU p99 ${ms(s.requestCpuMs?.p99, 2)})` : "",
      );
    };
    rows.push(latency(`filter p99, 4 PVCs, ${vgs}`, "filter, 4 PVCs", 5));
    rows.push(latency(`prioritize p99, 4 PVCs, all nodes, ${vgs}`, "prioritize, 4 PVCs", 5));
    rows.push(latency(`pass-through p99 (no local PVCs), ${vgs}`, "filter, no local PVCs", 1));
    // As behind a real kube-scheduler, whose node lists come in another order pod after pod.
    if (scenario("nodes reordered per request: filter, 4 PVCs"))
      rows.push(
        latency(
          `filter p99, 4 PVCs, nodes reordered per request, ${vgs}`,
          "nodes reordered per request: filter, 4 PVCs",
          5,
        ),
      );
    if (scenario("nodes reordered per request: filter, no local PVCs"))
      rows.push(
        latency(
          `pass-through p99, nodes reordered per request, ${vgs}`,
          "nodes reordered per request: filter, no local PVCs",
          1,
        ),
      );
    const pairs = scenario("filter→prioritize pairs");
    if (pairs)
      rows.push(info(`filter→prioritize pairs, ${vgs}`, `p50 ${pairs.p50} / p99 ${pairs.p99} ms, ${pairs.rps} req/s`));
    rows.push(scrapeRow(config.scrape, vgs));
    const errors = (config.scenarios ?? []).reduce((n, s) => n + (isNumber(s.errors) ? s.errors : 0), 0);
    if (errors > 0)
      rows.push({ measure: `failed requests, ${vgs}`, figure: String(errors), target: "0", verdict: NOT_MET });
    const full = config.fullNodes;
    if (full) {
      const filter = (full.cases ?? []).find((c) => String(c.title).startsWith("filter, 4 PVCs"));
      rows.push(
        info(
          `nodeCacheCapable: false, filter, ${vgs}`,
          `median ${ms(filter?.medianMs, 0)} (server CPU ${ms(filter?.cpuMsPerReq, 0)}); bare JSON.parse of the ${isNumber(full.bodyMiB) ? full.bodyMiB.toFixed(1) : "?"} MiB body ${ms(full.parseMs, 0)}`,
        ),
      );
    }
  }
  return rows;
}

/**
 * The scrape's hold on the event loop: its longest turn in CPU time where the bench measured it — on
 * the loop's own thread when it could read that (V8's helper threads run beside the loop, not in it),
 * else of all threads — with wall time beside it (on a shared machine it adds the waits for a core, so
 * the same window's figure without a scrape is shown too); an older bench's wall-clock block otherwise.
 */
function scrapeRow(scrape, vgs) {
  const measure = `/metrics scrape: event loop blocked, ${vgs}`;
  const size = isNumber(scrape?.bytes) ? `${(scrape.bytes / 2 ** 20).toFixed(1)} MiB` : undefined;
  if (!isNumber(scrape?.turnCpuMaxMs))
    return atMost(measure, scrape?.loopMaxMs, 5, "ms", size ? ` (wall; ${size})` : " (wall)");
  const wall = isNumber(scrape.loopMaxMs)
    ? `; wall ${scrape.loopMaxMs.toFixed(0)} ms, ${isNumber(scrape.quietLoopMaxMs) ? scrape.quietLoopMaxMs.toFixed(0) : "?"} ms with no scrape`
    : "";
  const tail = `${wall}${size ? `; ${size}` : ""})`;
  if (!isNumber(scrape.turnMainMaxMs))
    return atMost(measure, scrape.turnCpuMaxMs, 5, "ms", ` CPU (longest turn${tail}`);
  return atMost(
    measure,
    scrape.turnMainMaxMs,
    5,
    "ms",
    ` CPU on the loop's thread (longest turn; all threads ${scrape.turnCpuMaxMs.toFixed(1)} ms${tail}`,
  );
}

/** The agent's scan; idle RSS when a bench reports it (idle-rss.json). @returns {Row[]} */
export function agentRows(figures) {
  const scan = figures?.scan;
  const rows = [];
  if (scan && !scan.skipped) {
    const setup = `${scan.devices ?? "?"} devices, ${scan.vgs ?? "?"} VGs, ${scan.lvs ?? "?"} LVs`;
    rows.push(
      atMost(
        `one scan (median), ${setup}`,
        scan.scanMs?.median,
        500,
        "ms",
        isNumber(scan.scanMs?.max) ? ` (max ${scan.scanMs.max.toFixed(0)} ms)` : "",
      ),
    );
    rows.push(atMost("LVM invocations per scan", scan.lvmInvocationsPerScan, 3, "calls"));
  }
  const idle = figures?.["idle-rss"];
  if (idle && !idle.skipped) {
    const mib = [idle.idleRssMiB, idle.rssMiB, idle.rssMiBIdle].find(isNumber);
    rows.push(atMost("agent idle RSS", isNumber(mib) ? mb(mib) : undefined, 90, "MB"));
  }
  return rows;
}

const mb = (mib) => (mib * 2 ** 20) / 1e6;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The extender's RSS under sustained load (soak.json): its highest from minute 2 to the end against
 * 300 MB, and its growth over that span — the mean of the last minute's samples less the mean of
 * minute 2's — against 5 MB, which is what a sawtooth of full GCs moves the mean by, not a leak. A
 * soak shorter than three minutes has no growth to judge.
 * @returns {Row[]}
 */
export function soakRows(figures) {
  const samples = Array.isArray(figures?.samples) ? figures.samples.filter((s) => isNumber(s?.rssMiB)) : [];
  const settled = samples.filter((s) => s.t >= 120);
  if (settled.length === 0) return [];
  const setup = `${figures.nodes ?? "?"} nodes × ${figures.vgs ?? "?"} VGs, ${figures.pvs ?? "?"} PVs, ${figures.seconds ?? "?"} s of filter→prioritize pairs`;
  const rss = settled.map((s) => s.rssMiB);
  const rows = [
    atMost(
      `extender RSS, minute 2 to the end, ${setup}`,
      mb(Math.max(...rss)),
      300,
      "MB",
      ` (${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)} MiB)`,
    ),
  ];
  const end = settled.at(-1).t;
  const minuteTwo = settled.filter((s) => s.t < 180).map((s) => s.rssMiB);
  const lastMinute = settled.filter((s) => s.t > end - 60).map((s) => s.rssMiB);
  if (end >= 180 && minuteTwo.length > 0 && lastMinute.length > 0)
    rows.push(
      atMost(
        "extender RSS growth, minute 2 to the last minute (means)",
        mb(mean(lastMinute) - mean(minuteTwo)),
        5,
        "MB",
      ),
    );
  return rows;
}

/** Which share of the no-extender rate a scenario must reach, by how pods reach the extender. */
function schedulerTarget(scenario) {
  const withClaims = (scenario.claimsPerPod ?? 0) > 0;
  if (scenario.extender === "every pod") return withClaims ? 50 : 80;
  if (scenario.extender === "managed resources") return withClaims ? 75 : 95;
  return undefined;
}

/**
 * The no-extender scenario a scenario is judged against: the one with the same claims per pod (PreBind
 * waits for the provisioner with or without nls), else the one without volumes (runs from before the
 * bench had a baseline per claim count).
 */
function baselineFor(results, scenario) {
  const none = results.filter((r) => r.extender === "none");
  const rate = (r) => r?.podsPerSecond;
  return (
    rate(none.find((r) => (r.claimsPerPod ?? 0) === (scenario.claimsPerPod ?? 0))) ??
    rate(none.find((r) => (r.claimsPerPod ?? 0) === 0))
  );
}

/**
 * The real kube-scheduler's pods/s per scenario, as a share of the no-extender rate in the same run.
 * @returns {Row[]}
 */
export function schedulerRows(figures) {
  const results = Array.isArray(figures?.results) ? figures.results : [];
  return results.map((r) => {
    const rounds =
      Array.isArray(r.rounds) && r.rounds.length > 1
        ? ` (median of ${r.rounds.map((x) => x.toFixed(1)).join(", ")})`
        : "";
    const rate = isNumber(r.podsPerSecond) ? `${r.podsPerSecond.toFixed(1)} pods/s${rounds}` : "not reported";
    const measure = `${r.name ?? "?"} (${r.pods ?? "?"} pods)`;
    if (r.extender === "none") return info(measure, `${rate} (the baseline)`);
    const baseline = baselineFor(results, r);
    const share = isNumber(r.podsPerSecond) && isNumber(baseline) ? (100 * r.podsPerSecond) / baseline : undefined;
    const limit = schedulerTarget(r);
    const figure = isNumber(share) ? `${rate}, ${share.toFixed(0)} % of no-extender` : rate;
    if (limit === undefined) return info(measure, figure);
    return {
      measure,
      figure,
      target: `≥ ${limit} %`,
      verdict: isNumber(share) ? (share >= limit ? MET : NOT_MET) : NO_FIGURE,
    };
  });
}

/**
 * nls's and open-local's extenders on the same cluster and bodies, one row per node count and request:
 * a comparison, with no target of its own (the extender section holds nls's).
 * @returns {Row[]}
 */
export function headToHeadRows(figures) {
  const rows = Array.isArray(figures?.rows) ? figures.rows : [];
  const side = (name, s) =>
    isNumber(s?.p50Ms) && isNumber(s?.p99Ms) && isNumber(s?.perSecond)
      ? `${name} ${ms(s.p50Ms, 2)} / ${ms(s.p99Ms, 2)}, ${s.perSecond.toFixed(s.perSecond < 100 ? 1 : 0)}/s`
      : `${name} not reported`;
  return rows.map((r) =>
    info(
      `${r.nodes ?? "?"} nodes, ${r.title ?? "?"} (p50 / p99)`,
      `${side("nls", r.nls)}; ${side("open-local", r.openLocal)}; nodes answered ${r.nls?.nodesAnswered ?? "?"} / ${r.openLocal?.nodesAnswered ?? "?"}`,
    ),
  );
}

/** Which open-local build the "open-local" scenarios ran, or why there are none. */
function openLocalNote(openLocal) {
  if (typeof openLocal?.version === "string") return `open-local's extender ${openLocal.version} in the same run`;
  if (typeof openLocal?.skipped === "string") return `open-local's extender not measured: ${openLocal.skipped}`;
  return "open-local's extender not measured (figures from before the bench could run it)";
}

/** What each section says about its setup, before its rows. */
export function sectionNotes(name, figures) {
  if (name === "extender" && figures?.extender && !figures.extender.skipped) {
    const f = figures.extender;
    return [
      `${f.nodes ?? "?"} nodes, pods with 4 PVCs, ${f.durationSeconds ?? "?"} s per scenario, ${f.connections ?? "?"} connection(s), over loopback`,
    ];
  }
  if (name === "soak" && figures?.soak && !figures.soak.skipped) {
    const f = figures.soak;
    return [
      `${f.backlog ?? "?"} pending pods' claims in the cache, lease renewals and a /metrics scrape every 15 s alongside; the extender with Node flags: ${f.machine?.nodeOptions || "none"}`,
    ];
  }
  if (name === "scheduler" && figures?.scheduler && !figures.scheduler.skipped) {
    const f = figures.scheduler;
    return [
      `${f.nodes ?? "?"} nodes, percentageOfNodesToScore ${f.sampling ?? "?"}, ${f.rounds ?? 1} round(s); the real kube-scheduler, no kubelets`,
      openLocalNote(f.openLocal),
    ];
  }
  if (name === "head-to-head" && figures?.["head-to-head"] && !figures["head-to-head"].skipped) {
    const f = figures["head-to-head"];
    return [
      `over loopback, one connection each, ${f.seconds ?? "?"} s per figure, 2 VGs per node, ${f.pods ?? "?"} pods of 4 PVCs; ${openLocalNote(f.openLocal)}`,
    ];
  }
  return [];
}

/** part name → its rows, from the part's figures keyed by the file each bench wrote. */
export const rowsFor = {
  extender: (figures) => extenderRows(figures.extender),
  soak: (figures) => soakRows(figures.soak),
  agent: agentRows,
  scheduler: (figures) => schedulerRows(figures.scheduler),
  "head-to-head": (figures) => headToHeadRows(figures["head-to-head"]),
};
