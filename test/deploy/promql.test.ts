import test from "ava";
import { metricsIn } from "./promql.js";

const cases: Array<[string, string[]]> = [
  ["up == 0", ["up"]],
  ['up{job="nls-agent"} == 0', ["up"]],
  ['absent(up{job="nls-agent"})', ["up"]],
  ['increase(nls_agent_init_total{result="refused"}[30m]) > 0', ["nls_agent_init_total"]],
  ["histogram_quantile(0.99, sum by (le, verb) (rate(x_seconds_bucket[5m]))) > 1", ["x_seconds_bucket"]],
  [
    'max by (node, vg) (label_replace(a_used{nodename=~"$node"}, "node", "$1", "nodename", "(.+)")) / on (node, vg) max by (node, vg) (b_bytes > 0)',
    ["a_used", "b_bytes"],
  ],
  ["(sum without (result) (increase(w_total[10m])) > 0) unless (v_total > 0)", ["w_total", "v_total"]],
  ['label_values(nls_vg_allocatable_bytes{node=~"$node"}, vg)', ["nls_vg_allocatable_bytes"]],
  ["sum(rate(a[5m])) / sum(rate(b[5m]))", ["a", "b"]],
];
for (const [expr, want] of cases) {
  test(`metricsIn(${expr})`, (t) => {
    t.deepEqual(metricsIn(expr), want);
  });
}
