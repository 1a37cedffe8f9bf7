import { describeFailure, type CommandRunner } from "../discovery/run.js";
import { parseWipefs } from "../discovery/signatures.js";
import type { InitPlan, PlannedCommand } from "./plan.js";

/**
 * Runs an `InitPlan`. Only `create` entries whose intent the journal already records run anything; the
 * first failing command ends that VG.
 */

export interface InitOutcome {
  vg: string;
  /** `pending`: safe to create, but the intent must be in the journal first; nothing ran. */
  result: "created" | "pending" | "exists" | "refused" | "failed";
  reason?: string;
  devices: string[];
}

export async function applyInit(plan: InitPlan, runner: CommandRunner): Promise<InitOutcome[]> {
  const outcomes: InitOutcome[] = [];
  for (const p of plan.vgs) {
    const base = { vg: p.vg, devices: p.devices };
    if (p.action === "exists") {
      outcomes.push({ ...base, result: "exists", ...(p.reasons.length > 0 ? { reason: p.reasons.join("; ") } : {}) });
      continue;
    }
    if (p.action === "refused") {
      outcomes.push({ ...base, result: "refused", reason: p.reasons.join("; ") });
      continue;
    }
    if (!p.recorded) {
      // The journal must hold the intent before vgcreate runs, so that PV labels an interrupted vgcreate
      // leaves are recognised as the agent's own on restart.
      outcomes.push({ ...base, result: "pending" });
      continue;
    }
    outcomes.push({ ...base, ...(await runCreate(p.commands, runner)) });
  }
  return outcomes;
}

async function runCreate(
  commands: PlannedCommand[],
  runner: CommandRunner,
): Promise<Pick<InitOutcome, "result" | "reason">> {
  for (const c of commands) {
    const r = await runner.run(c.cmd, c.args);
    if (r.exitCode !== 0) return { result: "failed", reason: describeFailure(c.cmd, r) };
  }
  return { result: "created" };
}

export interface MountpointOutcome {
  path: string;
  device: string;
  /** `created`: formatted and mounted. `mounted`: nls' own filesystem mounted again. */
  result: "created" | "mounted" | "exists" | "refused" | "failed";
  reason?: string;
}

/**
 * Runs the mount point part of an `InitPlan`. Right before `mkfs` the device is probed again (a
 * signature that appeared since the scan stops it), and the mount path must be an empty directory
 * (mounting over files would hide them). Paths are created with `mkdir -p`.
 */
export async function applyMountpoints(plan: InitPlan, runner: CommandRunner): Promise<MountpointOutcome[]> {
  const outcomes: MountpointOutcome[] = [];
  for (const p of plan.mountpoints ?? []) {
    const base = { path: p.path, device: p.device };
    if (p.action === "exists" || p.action === "refused") {
      outcomes.push({ ...base, result: p.action, ...(p.reasons.length > 0 ? { reason: p.reasons.join("; ") } : {}) });
      continue;
    }
    const failure = await runMountpoint(p.path, p.device, p.commands, runner);
    outcomes.push(
      failure === undefined
        ? { ...base, result: p.action === "create" ? "created" : "mounted" }
        : { ...base, result: "failed", reason: failure },
    );
  }
  return outcomes;
}

async function runMountpoint(
  path: string,
  device: string,
  commands: PlannedCommand[],
  runner: CommandRunner,
): Promise<string | undefined> {
  const mkdir = await runner.run("mkdir", ["-p", "--", path]);
  if (mkdir.exitCode !== 0) return describeFailure("mkdir", mkdir);
  const ls = await runner.run("ls", ["-A", "--", path]);
  if (ls.exitCode !== 0) return describeFailure("ls", ls);
  if (ls.stdout.trim() !== "") return `${path} is not empty; refusing to mount over its files`;
  for (const c of commands) {
    if (c.cmd.startsWith("mkfs")) {
      const probe = await runner.run("wipefs", ["-n", "-J", "--", device]);
      if (probe.exitCode !== 0) return describeFailure("wipefs", probe);
      let found: number;
      try {
        found = parseWipefs(probe.stdout).size;
      } catch (e) {
        return (e as Error).message;
      }
      if (found > 0) return `${device} carries a signature since the scan; not formatted`;
    }
    const r = await runner.run(c.cmd, c.args);
    if (r.exitCode !== 0) return describeFailure(c.cmd, r);
  }
  return undefined;
}
