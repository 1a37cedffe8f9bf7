import { readFile } from "node:fs/promises";
import {
  API_VERSION,
  formatBytesHuman,
  NLSC_KIND,
  NLS_KIND,
  NodeLocalStorageInitConfigObjectSchema,
  NodeLocalStorageObjectSchema,
  NodeLocalStorageSpecSchema,
  nodeSpecFromInitConfig,
  schemaProblems,
  type NodeLocalStorage,
  type NodeLocalStorageInitConfig,
  type NodeLocalStorageSpec,
  type TSchema,
} from "@nls/api";
import type { Command } from "commander";
import { addFlags, readFlags, usageError } from "@nls/daemon";
import YAML from "yaml";
import { discoverHost, type HostFacts } from "./discovery/host.js";
import { SCAN_FLAGS } from "./flags.js";
import { execaRunner, formatCommand, type CommandRunner } from "./discovery/run.js";
import { describeInitPlan, planInit, type InitPlan } from "./init/plan.js";
import { buildStatus } from "./report.js";

/**
 * `nls-agent scan`: what this host would report, without a cluster and without changing anything.
 * It shows the init plan for `resourceToBeInited` but never runs it.
 */

/** The seed example (open-local's sample NodeLocalStorageInitConfig global config), used by `scan --seed`. */
export const SEED_SPEC: NodeLocalStorageSpec = {
  listConfig: {
    devices: { include: ["/dev/vd[a-d]+"], exclude: ["/dev/vda", "/dev/vdb"] },
    vgs: { include: ["open-local-pool-[0-9]+"] },
  },
  resourceToBeInited: {
    vgs: [{ name: "open-local-pool-0", devices: ["/dev/vdb3"] }],
  },
};

export interface ScanInput {
  spec?: NodeLocalStorageSpec;
  annotations?: Record<string, string>;
}

/**
 * Reads `--spec`: YAML or JSON holding a NodeLocalStorage (its spec and annotations are used), a
 * NodeLocalStorageInitConfig (its global config, as for a node without labels), or a bare spec. It is
 * checked against the schema of what it holds, strictly: a field the schema does not know (a typo such
 * as `listconfig:`) is an error naming it, as is a wrong type or a missing field.
 */
export function parseSpecFile(text: string, nodeName: string): ScanInput {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new Error(`not valid YAML or JSON: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new Error("expected a mapping (an object)");
  const kind = (doc as { kind?: unknown }).kind;
  if (kind === NLS_KIND) {
    const nls = checked<NodeLocalStorage>(NodeLocalStorageObjectSchema, doc);
    return {
      ...(nls.spec ? { spec: nls.spec } : {}),
      ...(nls.metadata?.annotations ? { annotations: nls.metadata.annotations } : {}),
    };
  }
  if (kind === NLSC_KIND) {
    const nlsc = checked<NodeLocalStorageInitConfig>(NodeLocalStorageInitConfigObjectSchema, doc);
    return { spec: nodeSpecFromInitConfig(nlsc.spec, nodeName, {}) };
  }
  if (kind !== undefined) throw new Error(`unsupported kind ${String(kind)}: expected ${NLS_KIND} or ${NLSC_KIND}`);
  return { spec: checked<NodeLocalStorageSpec>(NodeLocalStorageSpecSchema, doc) };
}

/** `value` when `schema` holds for it; else an error listing every problem. */
function checked<T>(schema: TSchema, value: unknown): T {
  const problems = schemaProblems(schema, value);
  if (problems.length > 0) throw new Error(problems.join("; "));
  return value as T;
}

export interface ScanOptions {
  nodeName: string;
  lvPrefix: string;
  devices: string[];
  mountRoot: string;
  mountInfoPath?: string;
  /** Default `DEFAULT_LVM_BACKUP_DIR`. */
  lvmBackupDir?: string;
  /** Default `DEFAULT_PROC_ROOT`. */
  procRoot?: string;
  now: Date;
}

export interface ScanResult {
  nls: NodeLocalStorage;
  plan: InitPlan;
  facts: HostFacts;
}

/** Discovers the host and builds the NodeLocalStorage it would report. Runs read-only commands only. */
export async function scanHost(runner: CommandRunner, input: ScanInput, opts: ScanOptions): Promise<ScanResult> {
  const facts = await discoverHost(runner, {
    deviceGlobs: opts.devices,
    mountRoot: opts.mountRoot,
    ...(opts.mountInfoPath !== undefined ? { mountInfoPath: opts.mountInfoPath } : {}),
    ...(opts.lvmBackupDir !== undefined ? { lvmBackupDir: opts.lvmBackupDir } : {}),
    ...(opts.procRoot !== undefined ? { procRoot: opts.procRoot } : {}),
  });
  const plan = planInit(input.spec?.resourceToBeInited, facts, { mountRoot: opts.mountRoot });
  const status = buildStatus(
    facts,
    input,
    { lvPrefix: opts.lvPrefix, now: opts.now },
    describeInitPlan(plan).map((p) => `resourceToBeInited (not applied by scan): ${p}`),
  );
  const nls: NodeLocalStorage = {
    apiVersion: API_VERSION,
    kind: NLS_KIND,
    metadata: { name: opts.nodeName, ...(input.annotations ? { annotations: input.annotations } : {}) },
    spec: { nodeName: opts.nodeName, ...(input.spec ?? {}) },
    status,
  };
  return { nls, plan, facts };
}

/** A YAML comment block that tells a person what `resourceToBeInited` would do on this host. */
export function describePlanAsComment(plan: InitPlan): string {
  const entries = [
    ...plan.vgs.map((p) => ({ title: `VG ${p.vg} [${p.devices.join(", ")}]: ${p.action}`, ...p })),
    ...(plan.mountpoints ?? []).map((p) => ({ title: `mount point ${p.path} [${p.device}]: ${p.action}`, ...p })),
  ];
  if (entries.length === 0) return "";
  const lines = ["resourceToBeInited plan (scan only reports; the agent would do this):"];
  for (const p of entries) {
    lines.push(`  ${p.title}`);
    for (const r of p.reasons) lines.push(`    - ${r}`);
    for (const c of p.commands) lines.push(`    $ ${formatCommand(c.cmd, c.args)}`);
  }
  return lines.map((l) => `# ${l}`).join("\n") + "\n";
}

/** A few comment lines on top of the YAML: what was found and selected, and what went wrong. */
export function describeScanAsComment(result: ScanResult): string {
  const info = result.nls.status?.nodeStorageInfo;
  const filtered = result.nls.status?.filteredStorageInfo;
  const summary = result.nls.status?.summary;
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? "" : "s"}`;
  const lines = [
    `nls scan of ${result.nls.metadata.name}: ${n(info?.deviceInfo?.length ?? 0, "candidate device")}, ` +
      `${n(info?.volumeGroups?.length ?? 0, "VG")}, ${n(info?.mountPoints?.length ?? 0, "mount point")}`,
    `listConfig selects ${n(filtered?.volumeGroups?.length ?? 0, "VG")} (allocatable ${summary?.allocatable ?? "0"}), ` +
      `${n(filtered?.devices?.length ?? 0, "device")}, ${n(filtered?.mountPoints?.length ?? 0, "mount point")}` +
      (filtered?.updateStatusInfo?.updateStatus === "failed" ? ` -- FAILED: ${filtered.updateStatusInfo.reason}` : ""),
    ...(info?.deviceInfo ?? []).map((d) => {
      const usage = d.inUse ?? [];
      return `  ${d.name}  ${formatBytesHuman(d.total)} ${d.mediaType}  ${usage.length > 0 ? `in use: ${usage.join("; ")}` : "free (could be initialised)"}`;
    }),
    ...result.facts.errors.map((e) => `warning: ${e}`),
  ];
  return lines.map((l) => `# ${l}`).join("\n") + "\n";
}

export function renderScan(result: ScanResult, format: "yaml" | "json"): string {
  if (format === "json") return JSON.stringify(result.nls, null, 2) + "\n";
  return (
    describeScanAsComment(result) + describePlanAsComment(result.plan) + YAML.stringify(result.nls, { lineWidth: 0 })
  );
}

export function registerScanCommand(program: Command): Command {
  const scan = program
    .command("scan")
    .description(
      "print the NodeLocalStorage this host would report (no cluster needed; changes nothing, " +
        "shows what resourceToBeInited would do)",
    );
  return addFlags(scan, SCAN_FLAGS).action(async (_opts: unknown, cmd: Command) => {
    const o = readFlags(cmd, SCAN_FLAGS);
    if (o.spec !== undefined && o.seed) usageError(cmd, "--spec and --seed exclude each other");
    let input: ScanInput = {};
    if (o.seed) input = { spec: structuredClone(SEED_SPEC) };
    else if (o.spec !== undefined) {
      try {
        input = parseSpecFile(await readFile(o.spec, "utf8"), o.nodeName);
      } catch (e) {
        usageError(cmd, `--spec ${o.spec}: ${(e as Error).message}`);
      }
    }
    const result = await scanHost(execaRunner({ prefix: o.commandPrefix }), input, {
      nodeName: o.nodeName,
      lvPrefix: o.lvPrefix,
      devices: o.devices,
      mountRoot: o.mountRoot,
      mountInfoPath: o.mountinfo,
      procRoot: o.proc,
      now: new Date(),
    });
    process.stdout.write(renderScan(result, o.output));
  });
}
