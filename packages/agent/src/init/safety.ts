import { deviceUse, type OwnWork } from "../device-use.js";
import type { HostFacts } from "../discovery/host.js";

/**
 * The device rules of VG and mount point initialisation (README "Safety rules"): a device named in the
 * spec is written to only when it is one of the agent's candidates and `deviceUse` finds it free.
 */

export interface PlannedCommand {
  cmd: string;
  args: string[];
}

/** The device path a spec's name stands for: a stable alias (`/dev/disk/by-id/…`) resolves to its target. */
export function resolveDevice(name: string, facts: HostFacts): string {
  return facts.aliases[name] ?? name;
}

/**
 * The reasons a device must not be written to, each naming the device as the spec does (and where it
 * really is, for an alias); empty when it is safe. `own` is passed to `deviceUse`.
 */
export function deviceRefusals(name: string, facts: HostFacts, own: OwnWork = {}): string[] {
  const resolved = resolveDevice(name, facts);
  const device = resolved === name ? name : `${name} (${resolved})`;
  const d = facts.devices.find((x) => x.name === resolved);
  if (!facts.complete.devices) return [`${device}: block devices could not be listed`];
  if (!d) return [`${device}: no such block device`];
  if (!facts.candidates.includes(resolved))
    return [`${device}: not matched by --devices, so the agent will not touch it`];
  return deviceUse(d, facts, own).map((reason) => `${device}: ${reason}`);
}
