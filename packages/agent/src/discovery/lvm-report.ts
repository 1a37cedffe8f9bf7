import { parseToolJson } from "./tool-json.js";

/**
 * LVM state from ONE `lvm fullreport` per scan, however many VGs and LVs exist (open-local runs `lvs`
 * once per LV). fullreport reads each VG under its lock, so VG, PV and LV numbers agree with each other.
 * The same parser reads `pvs`/`vgs`/`lvs --reportformat json` output (same `{"report": [...]}` shape).
 */

const VG_FIELDS = [
  "vg_name",
  "vg_uuid",
  "vg_attr",
  "vg_size",
  "vg_free",
  "vg_extent_size",
  "vg_extent_count",
  "vg_free_count",
  "pv_count",
  "vg_missing_pv_count",
  "lv_count",
  "vg_systemid",
];
const PV_FIELDS = [
  "pv_name",
  "pv_uuid",
  "vg_name",
  "pv_size",
  "pv_free",
  "dev_size",
  "pv_attr",
  "pv_missing",
  "pv_mda_count",
];
const LV_FIELDS = ["lv_name", "vg_name", "lv_uuid", "lv_size", "lv_attr", "lv_path", "lv_health_status"];

/**
 * `lvm` arguments of the scan. Segment sub-reports cannot be switched off, so an always-false selection
 * keeps them empty: their size would otherwise grow with every LV.
 */
export const LVM_FULLREPORT_ARGS = [
  "fullreport",
  // VGs owned by another system ID too: their names are taken, and they must never look unused.
  "--foreign",
  "--reportformat",
  "json",
  "--units",
  "b",
  "--nosuffix",
  "--configreport",
  "vg",
  "-o",
  VG_FIELDS.join(","),
  "--configreport",
  "pv",
  "-o",
  PV_FIELDS.join(","),
  "--configreport",
  "lv",
  "-o",
  LV_FIELDS.join(","),
  "--configreport",
  "pvseg",
  "-o",
  "pvseg_start",
  "-S",
  "pvseg_start<0",
  "--configreport",
  "seg",
  "-o",
  "seg_start",
  "-S",
  "seg_start<0",
];

export interface PhysicalVolumeFacts {
  name: string;
  uuid: string;
  /** Empty for a PV that belongs to no VG (an "orphan"). */
  vgName: string;
  size: number;
  free: number;
  devSize: number;
  attr: string;
  missing: boolean;
  /**
   * Metadata areas on the PV; -1 when not reported. A PV without one may belong to a VG whose other
   * PVs (the ones holding the metadata) are missing, and then looks like it belongs to no VG.
   */
  mdaCount: number;
}

export interface VolumeGroupFacts {
  name: string;
  uuid: string;
  attr: string;
  size: number;
  free: number;
  extentSize: number;
  extentCount: number;
  freeCount: number;
  pvCount: number;
  missingPvCount: number;
  lvCount: number;
  /** `vg_attr` 4th character `p`: some PVs are missing. */
  partial: boolean;
  /** `vg_attr` 1st character `r`. */
  readOnly: boolean;
  /** `vg_systemid`: the host that owns the VG; empty for a VG any host may use. */
  systemId: string;
}

export interface LogicalVolumeFacts {
  name: string;
  vgName: string;
  uuid: string;
  size: number;
  attr: string;
  path: string;
  /** `lv_attr` 2nd character `r`. */
  readOnly: boolean;
  /** `lv_attr` 9th character `p` (partial) or a health status LVM flags as bad. */
  faulty: boolean;
}

export interface LvmReport {
  pvs: PhysicalVolumeFacts[];
  vgs: VolumeGroupFacts[];
  lvs: LogicalVolumeFacts[];
}

export class LvmReportParseError extends Error {
  override readonly name = "LvmReportParseError";
}

type Row = Record<string, unknown>;

/** Parses `lvm fullreport` (or `pvs`/`vgs`/`lvs`) JSON with `--units b --nosuffix`. Sorted by name. */
export function parseLvmReport(json: string): LvmReport {
  const doc = parseToolJson(json, "LVM report", LvmReportParseError);
  const reports = (doc as { report?: unknown })?.report;
  if (!Array.isArray(reports)) throw new LvmReportParseError(`LVM report has no "report" array`);
  const out: LvmReport = { pvs: [], vgs: [], lvs: [] };
  for (const report of reports as Array<Record<string, unknown>>) {
    for (const row of rows(report, "vg")) out.vgs.push(toVg(row));
    for (const row of rows(report, "pv")) out.pvs.push(toPv(row));
    for (const row of rows(report, "lv")) out.lvs.push(toLv(row));
  }
  out.vgs.sort((a, b) => cmp(a.name, b.name));
  out.pvs.sort((a, b) => cmp(a.name, b.name));
  out.lvs.sort((a, b) => cmp(a.vgName, b.vgName) || cmp(a.name, b.name));
  return out;
}

function rows(report: Record<string, unknown>, key: string): Row[] {
  const list = report?.[key];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new LvmReportParseError(`LVM report: "${key}" is not an array`);
  return list as Row[];
}

function toVg(r: Row): VolumeGroupFacts {
  const name = str(r, "vg_name", true);
  const attr = str(r, "vg_attr");
  const missingPvCount = int(r, "vg_missing_pv_count", 0);
  return {
    name,
    uuid: str(r, "vg_uuid"),
    attr,
    size: int(r, "vg_size"),
    free: int(r, "vg_free"),
    extentSize: int(r, "vg_extent_size", 0),
    extentCount: int(r, "vg_extent_count", 0),
    freeCount: int(r, "vg_free_count", 0),
    pvCount: int(r, "pv_count", 0),
    missingPvCount,
    lvCount: int(r, "lv_count", 0),
    partial: attr[3] === "p" || missingPvCount > 0,
    readOnly: attr[0] === "r",
    systemId: str(r, "vg_systemid"),
  };
}

function toPv(r: Row): PhysicalVolumeFacts {
  return {
    name: str(r, "pv_name", true),
    uuid: str(r, "pv_uuid"),
    vgName: str(r, "vg_name"),
    size: int(r, "pv_size"),
    free: int(r, "pv_free", 0),
    devSize: int(r, "dev_size", 0),
    attr: str(r, "pv_attr"),
    missing: str(r, "pv_missing") !== "" || str(r, "pv_attr")[2] === "m",
    mdaCount: int(r, "pv_mda_count", -1),
  };
}

/** `lv_health_status` values that mean the LV cannot be trusted with data. */
const BAD_HEALTH = new Set(["partial", "refresh needed", "mismatches exist", "failed"]);

function toLv(r: Row): LogicalVolumeFacts {
  const attr = str(r, "lv_attr");
  return {
    name: str(r, "lv_name", true),
    vgName: str(r, "vg_name", true),
    uuid: str(r, "lv_uuid"),
    size: int(r, "lv_size"),
    attr,
    path: str(r, "lv_path"),
    readOnly: attr[1] === "r",
    faulty: attr[8] === "p" || BAD_HEALTH.has(str(r, "lv_health_status")),
  };
}

function str(r: Row, key: string, required = false): string {
  const v = r[key];
  if (typeof v === "string" && (v !== "" || !required)) return v;
  if (v === undefined && !required) return "";
  throw new LvmReportParseError(`LVM report row without ${key}: ${JSON.stringify(r).slice(0, 200)}`);
}

/** LVM prints every value as a string; with `--units b --nosuffix` sizes are plain integers. */
function int(r: Row, key: string, fallback?: number): number {
  const v = r[key];
  if ((v === undefined || v === "") && fallback !== undefined) return fallback;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new LvmReportParseError(`LVM report: ${key} is not a byte count: ${JSON.stringify(v)}`);
  }
  return n;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `lvm systemid`: the system ID this LVM stamps on the VGs it creates and needs to find on a VG to use
 * it (lvmsystemid(7)); empty when `global/system_id_source` is `none`.
 */
export const LVM_SYSTEMID_ARGS = ["systemid"];

export function parseSystemId(stdout: string): string {
  const m = /^\s*system ID:[ \t]*(.*?)\s*$/m.exec(stdout);
  if (!m)
    throw new LvmReportParseError(`lvm systemid printed no "system ID:" line: ${JSON.stringify(stdout.slice(0, 200))}`);
  return m[1]!;
}

/** A VG this host may not use: it carries a system ID that is not this host's. */
export function isForeignVg(vg: Pick<VolumeGroupFacts, "systemId">, localSystemId: string | undefined): boolean {
  return vg.systemId !== "" && vg.systemId !== localSystemId;
}
