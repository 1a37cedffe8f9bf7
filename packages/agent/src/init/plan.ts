import type { ResourceToBeInited } from "@nls/api";
import type { HostFacts } from "../discovery/host.js";
import { describeSignature } from "../discovery/signatures.js";

/**
 * `resourceToBeInited.vgs` → what to do, decided before anything is touched (SPEC §2). A device is used
 * only when every rule below says it is free; one unsafe device refuses its whole VG, so a VG is never
 * created smaller than asked. Nothing here ever forces or wipes: refusing is the only answer to doubt.
 */

export interface PlannedCommand {
  cmd: string;
  args: string[];
}

export interface VgPlan {
  vg: string;
  /** `create`: run `commands`. `exists`: VG present, left alone. `refused`: see `reasons`, nothing runs. */
  action: "create" | "exists" | "refused";
  /** The devices the spec lists for this VG. */
  devices: string[];
  /** Why a VG is refused, one entry per problem (device and cause); for `exists`, PV differences. */
  reasons: string[];
  /** For `create`: one `pvcreate` per device, then `vgcreate`, in order. Empty otherwise. */
  commands: PlannedCommand[];
}

export interface InitPlan {
  vgs: VgPlan[];
}

/** Device types a VG may be built on. LVs, dm and md devices are someone else's stacking. */
const USABLE_TYPES = new Set(["disk", "part", "loop"]);

/** The reasons a device must not become a PV; empty when it is safe. */
export function deviceRefusals(device: string, facts: HostFacts): string[] {
  const d = facts.devices.find((x) => x.name === device);
  if (!facts.complete.devices) return [`${device}: block devices could not be listed`];
  if (!d) return [`${device}: no such block device`];
  if (!facts.candidates.includes(device))
    return [`${device}: not matched by --devices, so the agent will not touch it`];
  const out: string[] = [];
  if (!USABLE_TYPES.has(d.type)) out.push(`${device}: is a ${d.type} device, not a disk or partition`);
  if (d.readOnly) out.push(`${device}: is read-only`);
  if (d.size === 0) out.push(`${device}: has size 0`);
  if (d.mountpoints.length > 0) out.push(`${device}: is mounted at ${d.mountpoints.join(", ")}`);
  const parts = d.children.filter((c) => c.type === "part").map((c) => c.name);
  const holders = d.children.filter((c) => c.type !== "part").map((c) => `${c.name} (${c.type})`);
  if (parts.length > 0) out.push(`${device}: has partitions ${parts.join(", ")}`);
  if (holders.length > 0) out.push(`${device}: is in use by ${holders.join(", ")}`);
  const pv = facts.lvm.pvs.find((p) => p.name === device);
  if (pv) {
    out.push(
      pv.vgName ? `${device}: is a physical volume of VG ${pv.vgName}` : `${device}: is already an LVM physical volume`,
    );
  }
  const probeError = facts.probeErrors[device];
  const sigs = facts.signatures[device];
  if (probeError !== undefined) out.push(`${device}: signatures unknown (${probeError})`);
  else if (sigs === undefined && d.mountpoints.length === 0) out.push(`${device}: signatures were not probed`);
  else if (sigs && sigs.length > 0 && !pv) out.push(`${device}: carries ${sigs.map(describeSignature).join(", ")}`);
  return out;
}

export function planInit(toInit: ResourceToBeInited | undefined, facts: HostFacts): InitPlan {
  const plans: VgPlan[] = [];
  const claimed = new Map<string, string>(); // device → VG that asked for it first
  for (const want of toInit?.vgs ?? []) {
    const devices = [...want.devices];
    const existing = facts.lvm.vgs.find((v) => v.name === want.name);
    if (existing) {
      const pvs = facts.lvm.pvs.filter((p) => p.vgName === want.name).map((p) => p.name);
      const reasons: string[] = [];
      const missing = devices.filter((d) => !pvs.includes(d));
      const extra = pvs.filter((p) => !devices.includes(p));
      if (missing.length > 0 || extra.length > 0) {
        reasons.push(
          `VG ${want.name} exists with PVs [${pvs.sort().join(", ")}], spec lists [${devices.join(", ")}]; left unchanged`,
        );
      }
      plans.push({ vg: want.name, action: "exists", devices, reasons, commands: [] });
      continue;
    }
    const reasons: string[] = [];
    if (!facts.complete.lvm) reasons.push("LVM state could not be read, so it is unknown whether the VG exists");
    if (devices.length === 0) reasons.push("no devices listed");
    const seen = new Set<string>();
    for (const device of devices) {
      if (seen.has(device)) {
        reasons.push(`${device}: listed twice`);
        continue;
      }
      seen.add(device);
      const other = claimed.get(device);
      if (other !== undefined) reasons.push(`${device}: also listed for VG ${other}`);
      else claimed.set(device, want.name);
      reasons.push(...deviceRefusals(device, facts));
    }
    if (reasons.length > 0) {
      plans.push({ vg: want.name, action: "refused", devices, reasons, commands: [] });
      continue;
    }
    plans.push({
      vg: want.name,
      action: "create",
      devices,
      reasons: [],
      // No --force, no --yes: should a signature appear after the check, pvcreate asks, gets no answer, and
      // stops. One pvcreate per device, so a failure leaves no doubt about which labels were written.
      commands: [
        ...devices.map((d) => ({ cmd: "pvcreate", args: [d] })),
        { cmd: "vgcreate", args: [want.name, ...devices] },
      ],
    });
  }
  return { vgs: plans };
}

/** One line per refused VG or differing existing VG, for `buildStatus(…, initProblems)` and Events. */
export function describeInitPlan(plan: InitPlan): string[] {
  return plan.vgs
    .filter((p) => p.reasons.length > 0)
    .map((p) => (p.action === "refused" ? `VG ${p.vg} not created: ${p.reasons.join("; ")}` : p.reasons.join("; ")));
}
