// The one table `pnpm bench` prints: a section per part, each figure beside its target and verdict.

const COLUMNS = [
  ["measure", 50],
  ["figure", 74],
  ["target", 10],
  ["verdict", 7],
];

const line = (cells) =>
  COLUMNS.map(([, width], i) => (i === COLUMNS.length - 1 ? cells[i] : String(cells[i]).padEnd(width)))
    .join("  ")
    .trimEnd();

/** report: { machine, loadAverageAtEnd, sections: [{ name, status, why, seconds, notes, rows }] } → text. */
export function renderReport(report) {
  const m = report.machine;
  const out = [
    "",
    `nls benchmarks — ${m.date}, commit ${m.gitCommit}`,
    `${m.cpu}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, Node ${m.node}; load average ${m.loadAverageAtStart.join(" ")} at the start, ${report.loadAverageAtEnd.join(" ")} at the end`,
  ];
  for (const s of report.sections) {
    out.push("", `== ${s.name}: ${s.status}${s.why ? ` (${s.why})` : ""}, ${s.seconds} s`);
    for (const note of s.notes) out.push(`   ${note}`);
    if (s.rows.length === 0) continue;
    out.push(line(COLUMNS.map(([title]) => title)));
    for (const r of s.rows) out.push(line([r.measure, r.figure, r.target, r.verdict]));
  }
  return out.join("\n");
}
