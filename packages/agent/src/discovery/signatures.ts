import { parseToolJson } from "./tool-json.js";

/**
 * On-disk signatures (filesystems, partition tables, RAID members, LVM PVs) from `wipefs -n -J`.
 * lsblk's FSTYPE comes from the udev database, which is empty inside a container, so the agent probes
 * the devices itself; `-n` (no-act) makes wipefs a read-only prober that reports *every* signature it
 * finds, including ones a single-answer prober would call ambiguous.
 */

export const WIPEFS_ARGS = ["-n", "-J"];

export interface Signature {
  /** e.g. `ext4`, `xfs`, `dos`, `gpt`, `LVM2_member`, `linux_raid_member`. */
  type: string;
  /** Byte offset as wipefs prints it (`0x438`). */
  offset: string;
  uuid?: string;
  label?: string;
}

export class SignatureParseError extends Error {
  override readonly name = "SignatureParseError";
}

/**
 * Parses wipefs JSON into signatures per kernel device name (`loop0`, `vdb1`). wipefs names devices by
 * their kernel name; devices without signatures do not appear (or appear with an empty list).
 * Empty output is valid: wipefs prints nothing at all for clean devices in some versions.
 */
export function parseWipefs(json: string): Map<string, Signature[]> {
  const out = new Map<string, Signature[]>();
  if (json.trim() === "") return out;
  const doc = parseToolJson(json, "wipefs output", SignatureParseError);
  const list = (doc as { signatures?: unknown })?.signatures;
  if (!Array.isArray(list)) throw new SignatureParseError(`wipefs output has no "signatures" array`);
  for (const raw of list as Array<Record<string, unknown>>) {
    const device = typeof raw?.device === "string" ? raw.device.replace(/^\/dev\//, "") : "";
    const type = typeof raw?.type === "string" ? raw.type : "";
    if (!device || !type) throw new SignatureParseError(`wipefs entry without device or type: ${JSON.stringify(raw)}`);
    const sig: Signature = { type, offset: typeof raw.offset === "string" ? raw.offset : "" };
    if (typeof raw.uuid === "string" && raw.uuid) sig.uuid = raw.uuid;
    if (typeof raw.label === "string" && raw.label) sig.label = raw.label;
    const sigs = out.get(device) ?? [];
    sigs.push(sig);
    out.set(device, sigs);
  }
  return out;
}

/** What a signature means for a person deciding whether a device is free. */
export function describeSignature(sig: Signature): string {
  const kind = PARTITION_TABLES.has(sig.type)
    ? "partition table"
    : sig.type === "LVM2_member"
      ? "LVM physical volume"
      : /raid/i.test(sig.type)
        ? "RAID member"
        : "filesystem";
  return `${kind} ${sig.type}${sig.offset ? ` at offset ${sig.offset}` : ""}${sig.label ? ` (label ${sig.label})` : ""}`;
}

const PARTITION_TABLES = new Set(["dos", "gpt", "PMBR", "sun", "sgi", "bsd", "mac", "atari", "ultrix", "solaris"]);
