import type { HostFacts } from "../discovery/host.js";
import { describeSignature, type Signature } from "../discovery/signatures.js";

/**
 * The device safety matrix shared by VG and mount point initialisation (README "Safety rules"): a
 * device is written to only when nothing suggests it holds or serves anything.
 */

export interface PlannedCommand {
  cmd: string;
  args: string[];
}

/** The device path a spec's name stands for: a stable alias (`/dev/disk/by-id/…`) resolves to its target. */
export function resolveDevice(name: string, facts: HostFacts): string {
  return facts.aliases[name] ?? name;
}

/** Device types nls builds on. LVs, dm and md devices are someone else's stacking. */
const USABLE_TYPES = new Set(["disk", "part", "loop"]);

/**
 * The reasons a device must not be written to; empty when it is safe. `accept` exempts a signature the
 * caller itself wrote (the labelled filesystem of a mount point, to mount it again after a reboot).
 */
export function deviceRefusals(name: string, facts: HostFacts, accept?: (sig: Signature) => boolean): string[] {
  const resolved = resolveDevice(name, facts);
  // Reasons name the device as the spec does, and where it really is when that differs.
  const device = resolved === name ? name : `${name} (${resolved})`;
  const d = facts.devices.find((x) => x.name === resolved);
  if (!facts.complete.devices) return [`${device}: block devices could not be listed`];
  if (!d) return [`${device}: no such block device`];
  if (!facts.candidates.includes(resolved))
    return [`${device}: not matched by --devices, so the agent will not touch it`];
  const out: string[] = [];
  if (!USABLE_TYPES.has(d.type)) out.push(`${device}: is a ${d.type} device, not a disk or partition`);
  if (d.readOnly) out.push(`${device}: is read-only`);
  if (d.size === 0) out.push(`${device}: has size 0`);
  if (d.mountpoints.length > 0) out.push(`${device}: is mounted at ${d.mountpoints.join(", ")}`);
  else if (!facts.complete.mounts) out.push(`${device}: mount state unknown (mounts could not be read)`);
  const parts = d.children.filter((c) => c.type === "part").map((c) => c.name);
  const holders = d.children.filter((c) => c.type !== "part").map((c) => `${c.name} (${c.type})`);
  if (parts.length > 0) out.push(`${device}: has partitions ${parts.join(", ")}`);
  if (holders.length > 0) out.push(`${device}: is in use by ${holders.join(", ")}`);
  const pv = facts.lvm.pvs.find((p) => p.name === resolved);
  if (pv) {
    out.push(
      pv.vgName ? `${device}: is a physical volume of VG ${pv.vgName}` : `${device}: is already an LVM physical volume`,
    );
  }
  const probeError = facts.probeErrors[resolved];
  const sigs = facts.signatures[resolved]?.filter((sig) => !accept?.(sig));
  if (probeError !== undefined) out.push(`${device}: signatures unknown (${probeError})`);
  else if (sigs === undefined && d.mountpoints.length === 0) out.push(`${device}: signatures were not probed`);
  else if (sigs && sigs.length > 0 && !pv) out.push(`${device}: carries ${sigs.map(describeSignature).join(", ")}`);
  return out;
}
