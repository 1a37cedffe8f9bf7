import { formatBytesHuman as human } from "@nls/api";
import { table, type SourceKind } from "@nls/extender";
import { KUBECTL_STYLE } from "../capacity/render.js";
import { ageText } from "../output/age.js";
import { percent } from "../output/format.js";
import type { ClaimAsk, Explanation, NodeArithmetic, NodeVerdict } from "./explain.js";

/** The claim sources in operators' words. */
export const SOURCE_TEXT: Record<SourceKind, string> = {
  pv: "PV",
  lv: "LV without a PV (counted by the extender)",
  allocation: "allocated (reserve call)",
  selected: "selected-node",
  tentative: "reserved by the extender",
};

function askText(c: ClaimAsk): string {
  switch (c.role) {
    case "new":
      return c.wants?.volumeType === "LVM" || !c.wants
        ? `new LVM volume, ${c.wants?.vg ? `VG ${c.wants.vg}` : "any VG"}`
        : `new ${c.wants.volumeType} volume, ${c.wants.mediaType ?? "any"} media`;
    case "bound":
    case "selected":
      return c.note ?? c.role;
    default:
      return `${c.role}: ${c.note ?? ""}`;
  }
}

const shortClaim = (claim: string): string => claim.slice(claim.indexOf("/") + 1);

function fitText(n: NodeVerdict): string {
  if (!n.placements) return "";
  const where = n.placements.map((p) => `${shortClaim(p.claim)} → ${p.vg ?? p.device}`).join(", ");
  if (!n.after) return where;
  return `${where}; after: ${human(n.after.used)} of ${human(n.after.capacity)} used (${percent(n.after.capacity ? n.after.used / n.after.capacity : 0)})`;
}

export function claimsTable(claims: readonly ClaimAsk[]): string[] {
  if (claims.length === 0) return ["The pod has no PersistentVolumeClaims."];
  return table(
    [
      ["PVC", "CLASS", "SIZE", "WHAT NLS MAKES OF IT"],
      ...claims.map((c) => [c.claim, c.storageClass ?? "-", c.bytes === undefined ? "-" : human(c.bytes), askText(c)]),
    ],
    KUBECTL_STYLE,
  );
}

/**
 * The explanation as text: the pod's claims, one row per node (FITS, SCORE, the REASON kube-scheduler
 * shows, the DETAIL with the numbers or where the volumes would go), then a summary.
 */
export function renderExplanation(
  e: Explanation,
  schedulerMessages: readonly string[],
  /** Lines that replace the table of every node (`explain --node`: that node's arithmetic). */
  nodeSection?: readonly string[],
): string[] {
  const lines = [`Pod ${e.pod} (${e.phase})`, ...claimsTable(e.claims), ""];
  if (e.boundTo) {
    lines.push(`The pod is bound to node ${e.boundTo}: nothing is pending.`);
    return lines;
  }
  if (e.passThrough) {
    lines.push(
      "The pod asks for no new local volume: the extender lets every node through. If it is pending, " +
        "the reason is another scheduler plugin's (below).",
    );
  } else {
    if (nodeSection) lines.push(...nodeSection, "");
    else
      lines.push(
        ...table(
          [
            ["NODE", "FITS", "SCORE", "REASON", "DETAIL"],
            ...e.nodes.map((n) => [
              n.node,
              n.fits ? "yes" : "no",
              n.score === undefined ? "-" : String(n.score),
              n.reason || "-",
              n.fits ? fitText(n) : n.detail,
            ]),
          ],
          KUBECTL_STYLE,
        ),
        "",
      );
    const fitting = e.nodes.filter((n) => n.fits).length;
    const refused = e.reasons.map((r) => `${r.nodes} ${r.reason}`).join(", ");
    lines.push(
      `nls: ${fitting} of ${e.nodes.length} nodes can take the pod` +
        (e.choice ? `; the extender prefers ${e.choice}` : "") +
        (refused ? `; refused: ${refused}` : ""),
    );
  }
  const last = schedulerMessages.at(-1);
  lines.push(last ? `kube-scheduler (last FailedScheduling): ${last}` : "kube-scheduler: no FailedScheduling event");
  return lines;
}

function agentLine(a: NodeArithmetic["agent"]): string {
  const renewed = a.renewedSecondsAgo === undefined ? "" : `, renewed ${ageText(a.renewedSecondsAgo)} ago`;
  const state = { ok: "ok", expired: "expired", "no-lease": "no lease", "bad-lease": "unreadable lease" }[a.state];
  return `agent: ${state} (Lease ${a.lease}${renewed})${a.problem ? ` — the extender fails the node: ${a.problem}` : ""}`;
}

/** `--node N`: the node's VGs with every claim that holds space there, its devices, its agent, and the verdict. */
export function renderArithmetic(a: NodeArithmetic, e: Explanation): string[] {
  const lines = [`Node ${a.node}`, agentLine(a.agent)];
  if (!a.nls) lines.push("no NodeLocalStorage: the node offers no local storage");
  const rows: string[][] = [["VG", "ALLOCATABLE", "COMMITTED", "FREE", "HELD BY"]];
  for (const vg of a.vgs) {
    rows.push([vg.name, human(vg.allocatable), human(vg.committed), human(vg.free), vg.holders.length ? "" : "-"]);
    for (const h of vg.holders) rows.push(["", "", human(h.bytes), "", `${h.claim} (${SOURCE_TEXT[h.source]})`]);
  }
  for (const vg of a.unusableVgs) rows.push([vg.name, "-", "-", "-", `unusable: ${vg.why}`]);
  if (a.undecided > 0) rows.push(["(no VG yet)", "-", human(a.undecided), "-", "selected for the node, VG not chosen"]);
  if (rows.length > 1) lines.push(...table(rows, KUBECTL_STYLE));
  else if (a.nls) lines.push("no selected volume group");
  if (a.devices.length) {
    lines.push(
      `devices: ${a.devices.map((d) => `${d.name} ${d.mediaType || "?"} ${human(d.total)} ${d.heldBy ? `held by ${d.heldBy}` : "free"}`).join("; ")}`,
    );
  }
  const news = e.claims.filter((c) => c.role === "new");
  if (news.length) {
    lines.push(
      `pod ${e.pod} needs: ${news.map((c) => `${c.claim} ${human(c.bytes ?? 0)} (${askText(c)})`).join(", ")}`,
    );
  }
  const v = a.verdict;
  if (v) {
    lines.push(
      v.fits
        ? `verdict: fits${v.score === undefined ? "" : `, score ${v.score}`}${v.placements ? ` — ${fitText(v)}` : ""}`
        : `verdict: refused — ${v.reason}`,
    );
    if (!v.fits && v.detail !== v.reason) lines.push(`  ${v.detail}`);
  }
  return lines;
}
