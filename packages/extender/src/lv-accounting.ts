import type { NodeLv } from "./node-view.js";

/**
 * Which of a node's LVs the ledger does not already count, and by how much. The agent adds the
 * storage system's own LVs back into `allocatable` (they are nls's volumes, and the ledger counts nls's
 * volumes from their PVs and claims); an LV that nothing in the ledger accounts for — a Retain PV
 * deleted, a provisioning that failed after `lvcreate`, an LV made by hand with a managed name — would
 * otherwise be free space twice. Pure: the node's LVs and a lookup of what explains each, in; charges out.
 */

/** What accounts for an LV in the ledger: its PV, or the claim it is being made for. */
export interface LvExplanation {
  /** `pv <name>` or the claim key, for operators. */
  by: string;
  /** Bytes the ledger counts for it. */
  bytes: number;
  /** The VG the ledger counts them in; undefined when it has not decided one yet (node-level bytes). */
  vg?: string;
}

/** Bytes of an LV the ledger must count on the LV's VG because nothing else does. */
export interface LvCharge {
  lv: string;
  vg: string;
  bytes: number;
  /**
   * `unexplained`: no PV and no in-flight claim accounts for the LV: all of it is charged.
   * `excess`: its PV or claim counts fewer bytes than LVM gave it (larger extents, an LV grown by
   * hand): the difference is charged.
   */
  why: "unexplained" | "excess";
  /** For `excess`: what accounts for the rest. */
  explainedBy?: string;
}

/**
 * The charges of one node's LVs, in the order of `lvs`. An explanation counted in another VG does not
 * explain the LV (its bytes are where LVM put them): it is charged whole, which counts it twice for a
 * moment rather than never.
 */
export function chargeLvs(lvs: readonly NodeLv[], explain: (lv: NodeLv) => LvExplanation | undefined): LvCharge[] {
  const out: LvCharge[] = [];
  for (const lv of lvs) {
    if (lv.bytes <= 0) continue;
    const e = explain(lv);
    if (!e || (e.vg !== undefined && e.vg !== lv.vg)) {
      out.push({ lv: lv.name, vg: lv.vg, bytes: lv.bytes, why: "unexplained" });
    } else if (lv.bytes > e.bytes) {
      out.push({ lv: lv.name, vg: lv.vg, bytes: lv.bytes - e.bytes, why: "excess", explainedBy: e.by });
    }
  }
  return out;
}

/** The ledger key of an LV's charge: LV names are unique per VG, VG names per node. */
export const lvLedgerKey = (node: string, vg: string, lv: string): string => `lv:${node}/${vg}/${lv}`;

/** The LV a ledger key charges, or undefined for a claim or PV key (LVM names hold no `/`). */
export function lvOfLedgerKey(key: string): { node: string; vg: string; lv: string } | undefined {
  const m = /^lv:(.*)\/([^/]+)\/([^/]+)$/.exec(key);
  return m ? { node: m[1]!, vg: m[2]!, lv: m[3]! } : undefined;
}
