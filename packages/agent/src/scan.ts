import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import {
  API_VERSION,
  DEFAULT_LV_PREFIX,
  NLSC_KIND,
  NLS_KIND,
  nodeSpecFromInitConfig,
  type NodeLocalStorage,
  type NodeLocalStorageInitConfigSpec,
  type NodeLocalStorageSpec,
} from "@nls/api";
import { Command, InvalidArgumentError, Option } from "commander";
import YAML from "yaml";
import {
  DEFAULT_DEVICE_GLOBS,
  DEFAULT_MOUNT_ROOT,
  discoverHost,
  normaliseDeviceGlobs,
  type HostFacts,
} from "./discovery/host.js";
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
 * NodeLocalStorageInitConfig (its global config, as for a node without labels), or a bare spec.
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
  const obj = doc as Record<string, unknown>;
  if (obj.kind === NLS_KIND) {
    const nls = obj as unknown as NodeLocalStorage;
    return {
      ...(nls.spec ? { spec: checkSpec(nls.spec) } : {}),
      ...(nls.metadata?.annotations ? { annotations: nls.metadata.annotations } : {}),
    };
  }
  if (obj.kind === NLSC_KIND) {
    return { spec: checkSpec(nodeSpecFromInitConfig(obj.spec as NodeLocalStorageInitConfigSpec, nodeName, {})) };
  }
  if (typeof obj.kind === "string")
    throw new Error(`unsupported kind ${obj.kind}: expected ${NLS_KIND} or ${NLSC_KIND}`);
  return { spec: checkSpec(obj as NodeLocalStorageSpec) };
}

/** The shape checks the selection and init code rely on; the API server's CRD schema does the rest. */
function checkSpec(spec: NodeLocalStorageSpec): NodeLocalStorageSpec {
  const strings = (v: unknown, where: string) => {
    if (v !== undefined && !(Array.isArray(v) && v.every((s) => typeof s === "string"))) {
      throw new Error(`${where} must be a list of strings`);
    }
  };
  if (typeof spec !== "object" || spec === null) throw new Error("spec must be a mapping");
  for (const list of ["devices", "vgs", "mountPoints"] as const) {
    strings(spec.listConfig?.[list]?.include, `listConfig.${list}.include`);
    strings(spec.listConfig?.[list]?.exclude, `listConfig.${list}.exclude`);
  }
  const vgs = spec.resourceToBeInited?.vgs;
  if (vgs !== undefined && !Array.isArray(vgs)) throw new Error("resourceToBeInited.vgs must be a list");
  for (const [i, vg] of (vgs ?? []).entries()) {
    if (typeof vg?.name !== "string" || vg.name === "")
      throw new Error(`resourceToBeInited.vgs[${i}].name is required`);
    strings(vg.devices, `resourceToBeInited.vgs[${i}].devices`);
    if (vg.devices === undefined) throw new Error(`resourceToBeInited.vgs[${i}].devices is required`);
  }
  return spec;
}

export interface ScanOptions {
  nodeName: string;
  lvPrefix: string;
  devices: string[];
  mountRoot: string;
  now: Date;
}

export interface ScanResult {
  nls: NodeLocalStorage;
  plan: InitPlan;
  facts: HostFacts;
}

/** Discovers the host and builds the NodeLocalStorage it would report. Runs read-only commands only. */
export async function scanHost(runner: CommandRunner, input: ScanInput, opts: ScanOptions): Promise<ScanResult> {
  const facts = await discoverHost(runner, { deviceGlobs: opts.devices, mountRoot: opts.mountRoot });
  const plan = planInit(input.spec?.resourceToBeInited, facts);
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
  if (plan.vgs.length === 0) return "";
  const lines = ["resourceToBeInited plan (scan only reports; the agent would do this):"];
  for (const p of plan.vgs) {
    lines.push(`  VG ${p.vg} [${p.devices.join(", ")}]: ${p.action}`);
    for (const r of p.reasons) lines.push(`    - ${r}`);
    for (const c of p.commands) lines.push(`    $ ${formatCommand(c.cmd, c.args)}`);
  }
  return lines.map((l) => `# ${l}`).join("\n") + "\n";
}

export function renderScan(result: ScanResult, format: "yaml" | "json"): string {
  if (format === "json") return JSON.stringify(result.nls, null, 2) + "\n";
  return describePlanAsComment(result.plan) + YAML.stringify(result.nls, { lineWidth: 0 });
}

function globList(value: string): string[] {
  const globs = normaliseDeviceGlobs(value.split(","));
  if (globs.length === 0) throw new InvalidArgumentError("expected one or more globs, e.g. '/dev/sd*,/dev/nvme*n*'");
  return globs;
}

export function registerScanCommand(program: Command): Command {
  return program
    .command("scan")
    .description(
      "print the NodeLocalStorage this host would report (no cluster needed; changes nothing, " +
        "shows what resourceToBeInited would do)",
    )
    .option("--devices <globs>", "comma-separated candidate device globs (micromatch)", globList, DEFAULT_DEVICE_GLOBS)
    .option("--spec <file>", "YAML/JSON file: a NodeLocalStorage, a NodeLocalStorageInitConfig or a bare spec")
    .option("--seed", "use the embedded example spec (open-local's default listConfig and resourceToBeInited)")
    .option("--lv-prefix <prefix>", "LVs starting with this (or csi-) are managed", DEFAULT_LV_PREFIX)
    .option("--mount-root <dir>", "report mount points below this directory", DEFAULT_MOUNT_ROOT)
    .option("--node-name <name>", "name of the NodeLocalStorage", process.env.NODE_NAME || hostname())
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .action(async (o: ScanCommandOptions, cmd: Command) => {
      if (o.spec !== undefined && o.seed) cmd.error("error: --spec and --seed exclude each other", { exitCode: 2 });
      let input: ScanInput = {};
      if (o.seed) input = { spec: structuredClone(SEED_SPEC) };
      else if (o.spec !== undefined) {
        try {
          input = parseSpecFile(await readFile(o.spec, "utf8"), o.nodeName);
        } catch (e) {
          cmd.error(`error: --spec ${o.spec}: ${(e as Error).message}`, { exitCode: 2 });
        }
      }
      const result = await scanHost(execaRunner(), input, {
        nodeName: o.nodeName,
        lvPrefix: o.lvPrefix,
        devices: o.devices,
        mountRoot: o.mountRoot,
        now: new Date(),
      });
      process.stdout.write(renderScan(result, o.output));
    });
}

interface ScanCommandOptions {
  devices: string[];
  spec?: string;
  seed?: boolean;
  lvPrefix: string;
  mountRoot: string;
  nodeName: string;
  output: "yaml" | "json";
}
