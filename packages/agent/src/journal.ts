import type { InitJournal, VgIntent } from "@nls/api";
import type { HostFacts } from "./discovery/host.js";

/**
 * The agent's memory across restarts (`status.journal`), pure. A VG name once seen on this node is never
 * created again: if the disk holding it disappears and a blank disk takes its kernel name, creating the
 * VG anew would give LVM two VGs of one name when the old disk returns. And before running `vgcreate`,
 * the agent records which devices it is about to label, so that labels an interrupted `vgcreate` left
 * behind are recognised as its own on restart rather than refused forever.
 */

export const EMPTY_JOURNAL: InitJournal = { seenVolumeGroups: [] };

/** What `nextJournal` reads of an init plan (`InitPlan`, which itself reads the journal). */
export interface PlannedVgs {
  vgs: ReadonlyArray<{ action: string; intent?: VgIntent }>;
}

/** Every VG name LVM reports on this node (its own, another host's, exported, partial). */
export function reportedVgNames(facts: HostFacts): Set<string> {
  return new Set([...facts.lvm.vgs.map((v) => v.name), ...facts.lvm.pvs.map((p) => p.vgName).filter((n) => n !== "")]);
}

/** Whether the VG of `intent` is not there and one of its devices carries a PV label of no VG. */
function leftBehind(intent: VgIntent, facts: HostFacts, reported: Set<string>): boolean {
  if (reported.has(intent.name)) return false;
  return intent.devices.some((d) => facts.lvm.pvs.some((p) => p.name === d && p.vgName === ""));
}

/**
 * The journal to write after a scan: names seen so far plus every name LVM reports now (nothing is
 * forgotten while LVM could not be read), and the VGs to record before creating them — the plan's
 * `create` entries — plus earlier records whose interrupted work is still on the disks.
 */
export function nextJournal(previous: InitJournal | undefined, facts: HostFacts, plan: PlannedVgs): InitJournal {
  const before = previous ?? EMPTY_JOURNAL;
  if (!facts.complete.lvm) return before;
  const reported = reportedVgNames(facts);
  const seen = [...new Set([...before.seenVolumeGroups, ...reported])].sort();
  const creating: VgIntent[] = plan.vgs.flatMap((p) => (p.action === "create" && p.intent ? [p.intent] : []));
  for (const old of before.creating ?? []) {
    if (!creating.some((c) => c.name === old.name) && leftBehind(old, facts, reported)) creating.push(old);
  }
  creating.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { seenVolumeGroups: seen, ...(creating.length > 0 ? { creating } : {}) };
}

/** The same VG on the same devices (order aside): the record that allows running `vgcreate`. */
export function sameIntent(a: VgIntent, b: VgIntent): boolean {
  return (
    a.name === b.name &&
    a.devices.length === b.devices.length &&
    [...a.devices].sort().join("\n") === [...b.devices].sort().join("\n")
  );
}

/**
 * What the journal says is wrong on this node: seen VGs LVM no longer reports (a disk missing or
 * failed), and PV labels an interrupted `vgcreate` left for a VG the spec no longer asks for.
 */
export function journalProblems(journal: InitJournal, facts: HostFacts, wanted: Set<string>): string[] {
  if (!facts.complete.lvm) return [];
  const reported = reportedVgNames(facts);
  const problems = journal.seenVolumeGroups
    .filter((name) => !reported.has(name))
    .map(
      (name) =>
        `VG ${name} was on this node and LVM does not report it now (a disk missing or failed?); it is never ` +
        `created again — if it is gone for good, remove ${name} from status.journal.seenVolumeGroups`,
    );
  for (const intent of journal.creating ?? []) {
    if (wanted.has(intent.name) || !leftBehind(intent, facts, reported)) continue;
    const labelled = intent.devices.filter((d) => facts.lvm.pvs.some((p) => p.name === d && p.vgName === ""));
    problems.push(
      `an interrupted creation of VG ${intent.name} left PV labels on ${labelled.join(", ")}, and the spec no longer ` +
        `asks for ${intent.name}: list it again to finish it, or remove the labels with pvremove`,
    );
  }
  return problems;
}
