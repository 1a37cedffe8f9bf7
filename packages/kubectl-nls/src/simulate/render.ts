import { formatBytesHuman as human } from "@nls/api";
import { podRow, refusalText, table, usageText, type Simulation } from "@nls/extender";
import { KUBECTL_STYLE } from "../capacity/render.js";

/** Up to this many names of pods that did not fit; the rest are counted. */
const NAMED_PODS = 5;

/**
 * A what-if as text: how many pods fit, each VG/device before and after with the new volumes it took,
 * totals, and why the first pod that did not fit was refused. `wide` adds one row per pod.
 */
export function renderWhatIf(
  sim: Simulation,
  burst: string,
  excluded: ReadonlyArray<{ node: string; why: string }>,
  wide: boolean,
): string[] {
  const placed = sim.pods.filter((p) => p.node);
  const lines = [
    `${sim.pods.length} pods (${burst}), strategy ${sim.strategy}, onto ${sim.nodes.length} nodes: ` +
      `${sim.placed} fit, ${sim.pods.length - sim.placed} do not`,
  ];
  if (wide) lines.push(...table([["POD", "VOLUMES", "NODE", "VG/DEVICE"], ...sim.pods.map(podRow)], KUBECTL_STYLE), "");
  const taken = new Map<string, number>();
  for (const p of placed) {
    for (const v of p.volumes) {
      const key = `${p.node}\u0000${v.vg ?? v.device}`;
      taken.set(key, (taken.get(key) ?? 0) + 1);
    }
  }
  let size = 0;
  let before = 0;
  let after = 0;
  const rows = sim.capacity.map((r) => {
    size += r.capacity;
    before += r.before;
    after += r.after;
    return [
      r.node,
      r.kind === "vg" ? r.name : `device ${r.name}`,
      human(r.capacity),
      usageText(r.before, r.capacity),
      usageText(r.after, r.capacity),
      String(taken.get(`${r.node}\u0000${r.name}`) ?? 0),
    ];
  });
  lines.push(
    ...table(
      [
        ["NODE", "VG/DEVICE", "SIZE", "BEFORE", "AFTER", "NEW VOLUMES"],
        ...rows,
        [
          "TOTAL",
          "",
          human(size),
          usageText(before, size),
          usageText(after, size),
          String([...taken.values()].reduce((a, b) => a + b, 0)),
        ],
      ],
      KUBECTL_STYLE,
    ),
  );
  const refused = sim.pods.filter((p) => !p.node);
  if (refused.length) {
    const names = refused.slice(0, NAMED_PODS).map((p) => p.pod);
    const more = refused.length > NAMED_PODS ? ` and ${refused.length - NAMED_PODS} more` : "";
    lines.push(
      "",
      `not placed: ${names.join(", ")}${more}`,
      `${refused[0]!.pod}: ${refusalText(refused[0]!.refusals)}`,
    );
  }
  if (excluded.length) {
    lines.push("", "left out (the extender does not offer them now):", ...excluded.map((e) => `  ${e.node}: ${e.why}`));
  }
  return lines;
}
