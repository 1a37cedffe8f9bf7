import { readFileSync } from "node:fs";
import { EXTENDER_DEBUG_PORT } from "@nls/api";
import { LEASE_MODES, STRATEGIES } from "@nls/extender";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { parseServiceRef, type ClusterReader, type ServiceRef } from "./cluster/reader.js";
import type { DecisionSettings } from "./cluster/state.js";
import { capacityCommand } from "./commands/capacity.js";
import { explainCommand } from "./commands/explain.js";
import { errorText } from "./cluster/api-error.js";
import { CommandError, type CommonOptions } from "./commands/inputs.js";
import { simulateCommand } from "./commands/simulate.js";
import { KubeconfigError, type ConnectionFlags } from "./kubeconfig/load.js";
import { OUTPUT_FORMATS, type OutputFormat } from "./output/format.js";

export const DEFAULT_EXTENDER = `kube-system/nls-extender:${EXTENDER_DEBUG_PORT}`;

/** What the program needs from the outside world (the binary passes the real ones, tests fakes). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** A reader for the cluster these flags choose, and the namespace they mean. */
  connect(flags: ConnectionFlags): { reader: ClusterReader; namespace: string };
  readFile(path: string): string;
  now(): number;
}

interface GlobalFlags extends ConnectionFlags {
  output: OutputFormat;
  extender: string;
  strategy?: DecisionSettings["strategy"];
  agentLease?: DecisionSettings["leaseMode"];
  leaseNamespace?: string;
}

/** `--extender`: `none`, an http(s) URL of the extender, or its Service as `[https:]NAMESPACE/NAME[:PORT]`. */
export function parseExtenderFlag(value: string): ServiceRef | URL | undefined {
  if (value === "none") return undefined;
  if (/^https?:\/\//.test(value)) {
    try {
      return new URL(value);
    } catch {
      throw new InvalidArgumentError(`not a URL: ${value}`);
    }
  }
  const ref = parseServiceRef(value);
  if (!ref.ok) throw new InvalidArgumentError(`${ref.error}, an http(s) URL, or none`);
  return ref.ref;
}

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

const EXAMPLES = {
  capacity: `
Examples:
  # Free and committed space per node and VG, with totals
  kubectl nls capacity

  # Only what volumes of class nls-fast can use, on one node
  kubectl nls capacity --class nls-fast --node worker-3

  # Committed bytes split into PVs, selected-node claims and reservations; JSON for scripts
  kubectl nls capacity -o wide
  kubectl nls capacity -o json | jq '.totals.free'`,
  explain: `
Examples:
  # Why is this pod pending? Every node's answer from the extender's own filter
  kubectl nls explain web-0 -n shop

  # The whole arithmetic on one node: its VGs, who holds what, the agent's Lease
  kubectl nls explain web-0 -n shop --node worker-3`,
  simulate: `
Examples:
  # Would 100 pods with a 20Gi volume each fit now? Where would they go?
  kubectl nls simulate --pods 100x20Gi

  # Two shapes, one on another class, placed with spread; one row per pod
  kubectl nls simulate --pods 10x50Gi,4x100Gi+10Gi@nls-fast --strategy spread -o wide

  # Offline, on a dump of the objects (no cluster needed)
  kubectl get nodes,nls,storageclasses,pv,pvc -A -o yaml > cluster.yaml
  kubectl nls simulate --from-file cluster.yaml --pods 20x30Gi`,
};

/**
 * The `kubectl nls` command tree. Actions write their output through `io`; failures become a
 * CommandError (exit 1, or 2 for usage) that `run` reports.
 */
export function buildProgram(io: Io): Command {
  const program = new Command("kubectl nls")
    .description(
      "Node-local storage (nls) from the operator's side: how much room is left, why a pod is pending, and what if.\n" +
        "Every answer is computed by the nls extender's own decision code over the cluster's objects.",
    )
    .version(version, "--version", "print the version")
    .option(
      "--kubeconfig <path>",
      "kubeconfig file (default: $KUBECONFIG, several files merged as kubectl does, else ~/.kube/config)",
    )
    .option("--context <name>", "the kubeconfig context to use")
    .option("-n, --namespace <name>", "the namespace of the pod (default: the context's, else default)")
    .addOption(
      new Option("-o, --output <format>", "table (default), wide (more columns), json or yaml")
        .choices(OUTPUT_FORMATS)
        .default("table"),
    )
    .option(
      "--extender <target>",
      "where to read the extender's ledger and settings: its Service [https:]NAMESPACE/NAME[:PORT] " +
        "(through the API server: the pod its EndpointSlices name, with pods/proxy), an http(s) URL, or none",
      DEFAULT_EXTENDER,
    )
    .addOption(
      new Option("--strategy <name>", "decide with this strategy instead of the extender's").choices(STRATEGIES),
    )
    .addOption(
      new Option("--agent-lease <mode>", "what a missing agent Lease means, instead of the extender's setting").choices(
        LEASE_MODES,
      ),
    )
    .option("--lease-namespace <name>", "where the agents' Leases are, instead of the extender's setting")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride()
    .addHelpText(
      "after",
      `
Exit status: 0 the question was answered (also when pods do not fit); 1 the cluster or an object could not
be read; 2 a usage error (unknown flag, bad value, bad --pods).

Examples:
  kubectl nls capacity                      # how much room is left
  kubectl nls explain web-0 -n shop         # why is this pod pending
  kubectl nls simulate --pods 100x20Gi      # what if 100 pods with a 20Gi volume each came now`,
    );

  const common = (cmd: Command, namespace: string): CommonOptions => {
    const g = cmd.optsWithGlobals() as GlobalFlags;
    let extender: ServiceRef | URL | undefined;
    try {
      extender = parseExtenderFlag(g.extender);
    } catch (e) {
      throw new CommandError(`--extender: ${(e as Error).message}`, 2);
    }
    return {
      output: g.output,
      namespace,
      extender,
      overrides: {
        ...(g.strategy ? { strategy: g.strategy } : {}),
        ...(g.agentLease ? { leaseMode: g.agentLease } : {}),
        ...(g.leaseNamespace ? { leaseNamespace: g.leaseNamespace } : {}),
      },
    };
  };
  const connect = (cmd: Command) => {
    const g = cmd.optsWithGlobals() as GlobalFlags;
    try {
      return io.connect({ kubeconfig: g.kubeconfig, context: g.context, namespace: g.namespace });
    } catch (e) {
      if (e instanceof KubeconfigError) throw new CommandError(e.message);
      throw e;
    }
  };

  program
    .command("capacity")
    .description(
      "how much room is left: per node and selected VG, allocatable, committed (bound PVs + selected-node claims + " +
        "reservations), free and use, free/selected devices, and the agent's Lease; sorted by node, with totals",
    )
    .option("--node <name>", "only this node")
    .option("--class <storageclass>", "only what volumes of this StorageClass can use")
    .addHelpText("after", EXAMPLES.capacity)
    .action(async (opts: { node?: string; class?: string }, cmd: Command) => {
      const { reader, namespace } = connect(cmd);
      io.out(
        await capacityCommand(reader, common(cmd, namespace), { node: opts.node, storageClass: opts.class }, io.now),
      );
    });

  program
    .command("explain")
    .description(
      "why a pod is pending: each of its PVCs as the extender sees it and, per node, whether its volumes fit — " +
        "the short reason kube-scheduler shows and the numbers behind it",
    )
    .argument("<pod>", "the pod's name (its namespace: -n)")
    .option("--node <name>", "the whole arithmetic of this node")
    .addHelpText("after", EXAMPLES.explain)
    .action(async (pod: string, opts: { node?: string }, cmd: Command) => {
      const { reader, namespace } = connect(cmd);
      io.out(await explainCommand(reader, common(cmd, namespace), { pod, node: opts.node }, io.now));
    });

  program
    .command("simulate")
    .description(
      "what if: place a burst of pods with the extender's decision code on the live state (or a file of objects, " +
        "offline); prints how many fit, where, and each VG's use before and after. Writes nothing.",
    )
    .requiredOption(
      "--pods <burst>",
      "comma-separated [COUNTx]SIZE[+SIZE…][@CLASS], one PVC per SIZE, e.g. 100x20Gi,2x500Gi@nls-fast",
    )
    .option("--class <storageclass>", "the class of groups without @CLASS (default: the default or only nls class)")
    .option(
      "--from-file <path>",
      "simulate on these objects (kubectl get nodes,nls,sc,pv,pvc -A -o yaml) instead of the cluster",
    )
    .addHelpText("after", EXAMPLES.simulate)
    .action(async (opts: { pods: string; class?: string; fromFile?: string }, cmd: Command) => {
      let fromFile: { path: string; text: string } | undefined;
      if (opts.fromFile !== undefined) {
        try {
          fromFile = { path: opts.fromFile, text: io.readFile(opts.fromFile) };
        } catch (e) {
          throw new CommandError(`--from-file: ${errorText(e)}`, 2);
        }
      }
      const live = fromFile ? undefined : connect(cmd);
      const namespace = live?.namespace ?? "default";
      io.out(
        await simulateCommand(
          live?.reader,
          common(cmd, namespace),
          { pods: opts.pods, storageClass: opts.class, fromFile },
          io.now,
        ),
      );
    });

  return program;
}

/** Runs the program on `argv` (without node and the script); returns the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too; every other commander error is a usage error.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof CommandError) {
      io.err(`error: ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`error: ${errorText(e)}\n`);
    return 1;
  }
}
