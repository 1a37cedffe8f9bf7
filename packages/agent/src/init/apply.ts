import { describeFailure, type CommandRunner } from "../discovery/run.js";
import type { InitPlan } from "./plan.js";

/**
 * Runs an `InitPlan`. Only `create` entries run anything. If `vgcreate` fails after `pvcreate`
 * succeeded, the PV labels this call just wrote are removed again (`pvremove` of exactly those devices),
 * so the next attempt does not find "foreign" PVs of its own making and refuse forever.
 */

export interface InitOutcome {
  vg: string;
  result: "created" | "exists" | "refused" | "failed";
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
    outcomes.push({ ...base, ...(await runCreate(p.commands, runner)) });
  }
  return outcomes;
}

async function runCreate(
  commands: InitPlan["vgs"][number]["commands"],
  runner: CommandRunner,
): Promise<Pick<InitOutcome, "result" | "reason">> {
  const created: string[] = [];
  for (const c of commands) {
    const r = await runner.run(c.cmd, c.args);
    if (r.exitCode === 0) {
      if (c.cmd === "pvcreate") created.push(...c.args);
      continue;
    }
    let reason = describeFailure(c.cmd, r);
    if (created.length > 0) {
      const undo = await runner.run("pvremove", created);
      reason +=
        undo.exitCode === 0
          ? `; removed the PV labels just written on ${created.join(", ")}`
          : `; removing the PV labels just written also failed: ${describeFailure("pvremove", undo)}`;
    }
    return { result: "failed", reason };
  }
  return { result: "created" };
}
