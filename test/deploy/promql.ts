/** Metric names in a PromQL expression (or a Grafana `label_values(metric, label)` query). */
/** Deliberately small: enough for the rules and dashboard in deploy/monitoring, tested in promql.test.ts. */
export function metricsIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "")
    .replace(/\blabel_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)/g, "$1");
  const operators = new Set(["and", "or", "unless", "bool", "offset"]);
  return [...stripped.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)].map((m) => m[1]!).filter((n) => !operators.has(n));
}
