import { formatBytesHuman as human } from "@nls/api";
import type { PodOutcome, Refusal, Simulation } from "./simulate.js";

/** A simulation as text: the placements, the usage table, then `placed N of M pods` as the last line. */

export interface TableStyle {
  /** Before each line (default two spaces). */
  indent?: string;
  /** Between columns (default two spaces; kubectl uses three). */
  gap?: string;
}

/** Columns padded to their widest cell (the last column is not padded). */
export function table(rows: readonly (readonly string[])[], style: TableStyle = {}): string[] {
  const { indent = "  ", gap = "  " } = style;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    `${indent}${row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join(gap)}`.trimEnd(),
  );
}

/** `20Gi (10%)`: bytes used of a capacity. */
export const usageText = (used: number, capacity: number): string =>
  `${human(used)} (${capacity > 0 ? Math.round((100 * used) / capacity) : 0}%)`;

/** Up to this many node names per refusal reason; the rest are counted. */
const NAMED_NODES = 3;

const nodesText = (nodes: readonly string[]): string =>
  nodes.length <= NAMED_NODES
    ? nodes.join(", ")
    : `${nodes.slice(0, NAMED_NODES).join(", ")} and ${nodes.length - NAMED_NODES} more`;

/** Node groups are separated by ` | `: the extender's own reasons already use `;` between VGs. */
export const refusalText = (refusals: readonly Refusal[]): string =>
  refusals.length === 0
    ? "fits nowhere: no nodes"
    : `fits nowhere: ${refusals.map((r) => `${nodesText(r.nodes)}: ${r.reason}`).join(" | ")}`;

/** One pod of a simulation: name, volumes, then its node and VGs/devices, or why it fits nowhere. */
export function podRow(p: PodOutcome): string[] {
  const volumes = p.volumes.map((v) => `${human(v.bytes)} ${v.storageClass}`).join(", ");
  if (!p.node) return [p.pod, volumes, "-", refusalText(p.refusals)];
  return [p.pod, volumes, p.node, p.volumes.map((v) => v.vg ?? v.device ?? "?").join(", ")];
}

export function renderSimulation(sim: Simulation): string[] {
  const lines = [`strategy ${sim.strategy}: ${sim.pods.length} pods onto ${sim.nodes.length} nodes`];
  lines.push(...table([["POD", "VOLUMES", "NODE", "VG/DEVICE"], ...sim.pods.map(podRow)]));
  lines.push("");
  lines.push(
    ...table([
      ["NODE", "VG/DEVICE", "SIZE", "BEFORE", "AFTER"],
      ...sim.capacity.map((r) => [
        r.node,
        r.kind === "vg" ? r.name : `device ${r.name}`,
        human(r.capacity),
        usageText(r.before, r.capacity),
        usageText(r.after, r.capacity),
      ]),
    ]),
  );
  lines.push(`placed ${sim.placed} of ${sim.pods.length} pods`);
  return lines;
}
