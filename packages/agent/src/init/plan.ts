import { vgNameProblem, type InitJournal, type ResourceToBeInited, type VgIntent } from "@nls/api";
import type { HostFacts } from "../discovery/host.js";
import { isForeignVg } from "../discovery/lvm-report.js";
import { EMPTY_JOURNAL, sameIntent } from "../journal.js";
import { planMountpoints, type MountpointPlan } from "./mountpoints.js";
import { deviceRefusals, resolveDevice, type PlannedCommand } from "./safety.js";

export { deviceRefusals, type PlannedCommand } from "./safety.js";

/**
 * `resourceToBeInited.vgs` → what to do, decided before anything is touched (docs/nodelocalstorage.md). A device is used
 * only when every rule below says it is free; one unsafe device refuses its whole VG, so a VG is never
 * created smaller than asked. Nothing here ever forces or wipes: refusing is the only answer to doubt.
 */

export interface VgPlan {
  vg: string;
  /** `create`: run `commands`. `exists`: VG present, left alone. `refused`: see `reasons`, nothing runs. */
  action: "create" | "exists" | "refused";
  /** The devices the spec lists for this VG. */
  devices: string[];
  /** Why a VG is refused, one entry per problem (device and cause); for `exists`, PV differences. */
  reasons: string[];
  /** For `create`: the one `vgcreate` that labels the devices and creates the VG. Empty otherwise. */
  commands: PlannedCommand[];
  /** For `create`: the VG and the devices it is made of, as the journal records them before `vgcreate`. */
  intent?: VgIntent;
  /**
   * For `create`: the journal the plan was made with already holds `intent`, so `vgcreate` may run.
   * Otherwise the intent is recorded first (in the status the agent writes) and `vgcreate` runs next pass.
   */
  recorded?: boolean;
}

export interface InitPlan {
  vgs: VgPlan[];
  /** `resourceToBeInited.mountpoints`; absent when the spec lists none. Applied by `applyMountpoints`. */
  mountpoints?: MountpointPlan[];
}

/** What the plan needs besides the spec and the host's facts. */
export interface InitContext {
  /** `--mount-root`: mount points are set up only strictly below it. */
  mountRoot: string;
  /** `status.journal` as last written: the VG names seen on this node and the recorded intents. */
  journal?: InitJournal;
}

export function planInit(toInit: ResourceToBeInited | undefined, facts: HostFacts, ctx: InitContext): InitPlan {
  const plans: VgPlan[] = [];
  const claimed = new Map<string, string>(); // device → what asked for it first ("VG x", "mount point /y")
  for (const want of toInit?.vgs ?? []) {
    const devices = [...want.devices];
    // A name LVM would reject, or read as an option, is reported and never reaches a command line.
    const nameProblem = vgNameProblem(want.name);
    if (nameProblem !== undefined) {
      const reasons = [`VG name ${JSON.stringify(want.name)} is invalid: ${nameProblem}`];
      plans.push({ vg: want.name, action: "refused", devices, reasons, commands: [] });
      continue;
    }
    // Aliases (/dev/disk/by-id/…) compare, claim and run as the device they point to.
    const resolved = devices.map((d) => resolveDevice(d, facts));
    const existing = facts.lvm.vgs.find((v) => v.name === want.name);
    if (existing && isForeignVg(existing, facts.lvmSystemId)) {
      const reasons = [
        `VG ${want.name} exists and belongs to system ID ${existing.systemId}, not this host's; left unchanged`,
      ];
      plans.push({ vg: want.name, action: "exists", devices, reasons, commands: [] });
      continue;
    }
    if (existing) {
      const pvs = facts.lvm.pvs.filter((p) => p.vgName === want.name).map((p) => p.name);
      const reasons: string[] = [];
      const missing = resolved.filter((d) => !pvs.includes(d));
      const extra = pvs.filter((p) => !resolved.includes(p));
      if (missing.length > 0 || extra.length > 0) {
        reasons.push(
          `VG ${want.name} exists with PVs [${pvs.sort().join(", ")}], spec lists [${devices.join(", ")}]; left unchanged`,
        );
      }
      plans.push({ vg: want.name, action: "exists", devices, reasons, commands: [] });
      continue;
    }
    const orphanOf = facts.lvm.pvs.filter((p) => p.vgName === want.name).map((p) => p.name);
    if (orphanOf.length > 0) {
      const reasons = [
        `LVM reports PVs of VG ${want.name} (${orphanOf.join(", ")}) but not the VG itself; left unchanged`,
      ];
      plans.push({ vg: want.name, action: "exists", devices, reasons, commands: [] });
      continue;
    }
    const journal = ctx.journal ?? EMPTY_JOURNAL;
    const memory = forgottenVg(want.name, journal, facts);
    if (memory !== undefined) {
      plans.push({ vg: want.name, action: "refused", devices, reasons: [memory], commands: [] });
      continue;
    }
    const reasons: string[] = [];
    if (!facts.complete.lvm) reasons.push("LVM state could not be read, so it is unknown whether the VG exists");
    else {
      const identity = systemIdProblem(facts);
      if (identity !== undefined) reasons.push(identity);
    }
    if (devices.length === 0) reasons.push("no devices listed");
    // PV labels an interrupted vgcreate of exactly this VG left: the agent's own, to be finished.
    const earlier = journal.creating?.find((i) => i.name === want.name);
    const seen = new Set<string>();
    devices.forEach((device, i) => {
      const real = resolved[i]!;
      if (seen.has(real)) {
        reasons.push(`${device}: listed twice`);
        return;
      }
      seen.add(real);
      const other = claimed.get(real);
      if (other !== undefined) reasons.push(`${device}: also listed for ${other}`);
      else claimed.set(real, `VG ${want.name}`);
      reasons.push(...deviceRefusals(device, facts, { orphanPv: earlier?.devices.includes(real) === true }));
    });
    if (reasons.length > 0) {
      plans.push({ vg: want.name, action: "refused", devices, reasons, commands: [] });
      continue;
    }
    const intent = { name: want.name, devices: resolved };
    plans.push({
      vg: want.name,
      action: "create",
      devices,
      reasons: [],
      intent,
      recorded: earlier !== undefined && sameIntent(earlier, intent),
      // One vgcreate labels the devices as PVs and creates the VG: no window between two commands in which
      // a crash leaves PV labels without a VG. No --force, no --yes: should a signature appear after the
      // check, vgcreate asks whether to wipe it, gets no answer (stdin is closed), and stops.
      commands: [{ cmd: "vgcreate", args: ["--", want.name, ...resolved] }],
    });
  }
  const mountpoints = toInit?.mountpoints;
  if (mountpoints === undefined || mountpoints.length === 0) return { vgs: plans };
  return { vgs: plans, mountpoints: planMountpoints(mountpoints, facts, claimed, ctx.mountRoot) };
}

/**
 * A VG name this node has had: in the journal (the agent saw it), or with a metadata backup LVM keeps
 * until `vgremove`. Creating it again on whatever disk now has the old disk's name would give LVM two VGs
 * of one name when the old disk returns, and that node's volumes would become inaccessible.
 */
function forgottenVg(name: string, journal: InitJournal, facts: HostFacts): string | undefined {
  const where = [
    ...(journal.seenVolumeGroups.includes(name) ? ["the agent saw it here (status.journal.seenVolumeGroups)"] : []),
    ...(facts.lvmBackups.includes(name) ? ["LVM keeps a metadata backup of it (removed only by vgremove)"] : []),
  ];
  if (where.length === 0) return undefined;
  return (
    `VG ${name} existed on this node and LVM does not report it now (a disk missing or failed?): ${where.join(", and ")}; ` +
    `it is not created again on other disks — if it is gone for good, remove that record`
  );
}

/**
 * With `global/system_id_source` set, LVM stamps a new VG with the system ID it computes here — inside
 * the agent's container, from the container's hostname or machine-id unless the host's own sources are
 * shared with it. A VG stamped with the wrong identity is foreign to the host (and to the next agent pod,
 * whose hostname differs), and its volumes become inaccessible. The identity is trusted only when a VG of
 * this host already carries it.
 */
function systemIdProblem(facts: HostFacts): string | undefined {
  const id = facts.lvmSystemId;
  if (id === "" || facts.lvm.vgs.some((v) => v.systemId === id)) return undefined;
  return (
    `LVM here would stamp the new VG with system ID ${id} (global/system_id_source in lvm.conf), and no VG on ` +
    `this node carries it, so it may be the agent container's identity rather than the host's: create the VG ` +
    `on the host, or use system_id_source "lvmlocal" (read from the host's /etc/lvm) or "none"`
  );
}

/** One line per refused VG or mount point, or differing existing VG, for `buildStatus(…, initProblems)`. */
export function describeInitPlan(plan: InitPlan): string[] {
  const vgs = plan.vgs
    .filter((p) => p.reasons.length > 0)
    .map((p) => (p.action === "refused" ? `VG ${p.vg} not created: ${p.reasons.join("; ")}` : p.reasons.join("; ")));
  const mps = (plan.mountpoints ?? [])
    .filter((p) => p.action === "refused")
    .map((p) => `mount point ${p.path} not set up: ${p.reasons.join("; ")}`);
  return [...vgs, ...mps];
}
