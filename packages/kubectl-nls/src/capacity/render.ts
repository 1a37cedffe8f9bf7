import { formatBytesHuman as human } from "@nls/api";
import { table } from "@nls/extender";
import type { AgentStatus } from "../cluster/state.js";
import { ageText } from "../output/age.js";
import { percent } from "../output/format.js";
import type { Capacity, NodeCapacity } from "./capacity.js";

/** Where the committed figures come from: the extender's own ledger, or one built from the objects. */
export type LedgerSource = { kind: "extender"; from: string; reservations: number } | { kind: "objects"; why: string };

export const KUBECTL_STYLE = { indent: "", gap: "   " } as const;

/** `ok (5s)`, `expired (95s)`, `no lease`: the agent's Lease at a glance (the age is since its last renewal). */
export function agentText(a: AgentStatus): string {
  const age = a.renewedSecondsAgo === undefined ? "" : ` (${ageText(a.renewedSecondsAgo)})`;
  switch (a.state) {
    case "ok":
      return `ok${age}`;
    case "expired":
      return `expired${age}`;
    case "no-lease":
      return a.problem ? "no lease" : "no lease (trusted)";
    case "bad-lease":
      return "bad lease";
  }
}

const devicesText = (n: NodeCapacity): string => `${n.devices.free}/${n.devices.total}`;

function nodeRows(n: NodeCapacity, wide: boolean): string[][] {
  const tail = [devicesText(n), agentText(n.agent)];
  const rows: string[][] = n.vgs.map((vg) => [
    n.node,
    vg.name,
    human(vg.allocatable),
    human(vg.committed),
    human(vg.free),
    percent(vg.utilisation),
    ...(wide
      ? [
          human(vg.bySource.pv),
          human(vg.bySource.allocation + vg.bySource.selected),
          human(vg.bySource.tentative),
          human(vg.bySource.lv),
        ]
      : []),
    ...tail,
  ]);
  const dashes = (k: number) => Array<string>(k).fill("-");
  if (n.undecided > 0) {
    rows.push([n.node, "(no VG yet)", "-", human(n.undecided), "-", "-", ...(wide ? dashes(4) : []), ...tail]);
  }
  for (const vg of n.unusableVgs) {
    rows.push([n.node, `${vg.name} (${vg.why})`, ...dashes(4), ...(wide ? dashes(4) : []), ...tail]);
  }
  if (rows.length === 0) rows.push([n.node, "-", ...dashes(4), ...(wide ? dashes(4) : []), ...tail]);
  return rows;
}

function sourceLine(source: LedgerSource): string {
  if (source.kind === "extender") {
    return `committed: the extender's ledger (${source.from}), ${source.reservations} live reservation${source.reservations === 1 ? "" : "s"} included`;
  }
  return `committed: computed from PVs and PVCs; the extender's in-memory reservations are not included (${source.why})`;
}

/**
 * The capacity table: one row per node and VG, sorted by node then VG, then a TOTAL row and notes
 * (the largest free VG, nodes without a NodeLocalStorage, where the committed figures come from).
 */
export function renderCapacity(c: Capacity, source: LedgerSource, wide: boolean): string[] {
  const header = [
    "NODE",
    "VG",
    "ALLOCATABLE",
    "COMMITTED",
    "FREE",
    "USED",
    ...(wide ? ["PVS", "SELECTED", "RESERVED", "ORPHAN LVS"] : []),
    "DEVICES",
    "AGENT",
  ];
  const t = c.totals;
  const total = [
    "TOTAL",
    "",
    human(t.allocatable),
    human(t.committed),
    human(t.free),
    percent(t.utilisation),
    ...(wide ? ["", "", "", ""] : []),
    `${t.devices.free}/${t.devices.total}`,
    `${t.agentsOk}/${c.nodes.length} ok`,
  ];
  const lines = c.nodes.length
    ? table([header, ...c.nodes.flatMap((n) => nodeRows(n, wide)), total], KUBECTL_STYLE)
    : ["No NodeLocalStorage found."];
  lines.push("");
  if (t.largestFree) {
    lines.push(`largest free VG: ${human(t.largestFree.bytes)} on ${t.largestFree.node}/${t.largestFree.vg}`);
  }
  if (c.nodesWithoutNls.length) lines.push(`no NodeLocalStorage: ${c.nodesWithoutNls.join(", ")}`);
  for (const n of c.nodes) if (n.agent.problem) lines.push(`${n.node}: not offered to pods: ${n.agent.problem}`);
  for (const n of c.nodes) {
    for (const l of n.unexplainedLvs) {
      lines.push(
        l.excess
          ? `${n.node}: LV ${l.vg}/${l.lv} holds ${human(l.bytes)} more than its volume counts: counted as used`
          : `${n.node}: LV ${l.vg}/${l.lv} (${human(l.bytes)}) has no PV and no claim on its way: counted as used until it is removed (lvremove ${l.vg}/${l.lv}, once its data is not needed)`,
      );
    }
  }
  lines.push(sourceLine(source));
  return lines;
}
