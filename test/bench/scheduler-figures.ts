/** Pure arithmetic and layout of the scheduler bench's figures. */

export const median = (values: number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Per key, the median of the values the records have for it. */
export function medianPerKey(records: Array<Record<string, number>>): Record<string, number> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => [k, median(records.flatMap((r) => (r[k] === undefined ? [] : [r[k]!])))]));
}

/**
 * A Markdown table of CPU ms per pod: one row per `rows` entry, one column per process named in any
 * row (in first-seen order, "others" last), a sum of the bench's processes, and each row's rate.
 */
export function cpuTable(
  rows: Array<{ label: string; podsPerSecond: number; cpuMsPerPod: Record<string, number> }>,
): string[] {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.cpuMsPerPod)))].filter((n) => n !== "others");
  const columns = [...names, "sum", ...(rows.some((r) => "others" in r.cpuMsPerPod) ? ["others"] : [])];
  const cell = (v: number | undefined) => (v === undefined ? "" : v.toFixed(2));
  return [
    `| CPU ms per pod | pods/s | ${columns.join(" | ")} |`,
    `|---|---|${columns.map(() => "---").join("|")}|`,
    ...rows.map((r) => {
      const sum = names.reduce((total, n) => total + (r.cpuMsPerPod[n] ?? 0), 0);
      const values = [...names.map((n) => r.cpuMsPerPod[n]), names.length ? sum : undefined];
      if (columns.at(-1) === "others") values.push(r.cpuMsPerPod.others);
      return `| ${r.label} | ${r.podsPerSecond.toFixed(1)} | ${values.map(cell).join(" | ")} |`;
    }),
  ];
}
