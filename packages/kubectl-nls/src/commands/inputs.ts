import { DEFAULT_LEASE_NAMESPACE } from "@nls/api";
import type { LedgerSnapshot } from "@nls/extender";
import { errorText } from "../cluster/api-error.js";
import { parseExtenderCache } from "../cluster/extender-cache.js";
import { serviceRefText, type ClusterReader, type ServiceRef } from "../cluster/reader.js";
import type { DecisionSettings } from "../cluster/state.js";
import type { OutputFormat } from "../output/format.js";

/** The extender's defaults, used for what neither a flag nor the extender's `/cache` says. */
export const DEFAULT_SETTINGS: DecisionSettings = {
  strategy: "binpack",
  leaseMode: "required",
  leaseNamespace: DEFAULT_LEASE_NAMESPACE,
};

/** A command's failure: its message goes to stderr, `exitCode` to the shell (1: runtime, 2: usage). */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** What every subcommand gets besides its own flags. */
export interface CommonOptions {
  output: OutputFormat;
  /** The namespace of `-n` (or the context's). */
  namespace: string;
  /** Where to ask the extender for its ledger and settings; undefined: do not ask. */
  extender: ServiceRef | URL | undefined;
  /** `--strategy`, `--agent-lease`, `--lease-namespace`: override what the extender reports. */
  overrides: Partial<DecisionSettings>;
}

export interface ExtenderAnswer {
  /** Who answered with the ledger, when one did: the URL, or the extender's pod (`pod NAMESPACE/NAME`). */
  from?: string;
  ledger?: LedgerSnapshot;
  /** Why there is no ledger from the extender. */
  unavailable?: string;
}

/**
 * The settings decisions are made with — each from a flag, else the extender's `/cache`, else the
 * extender's default — and the extender's ledger when it answers.
 */
export async function decisionInputs(
  reader: ClusterReader,
  common: CommonOptions,
): Promise<{ settings: DecisionSettings; extender: ExtenderAnswer }> {
  let extender: ExtenderAnswer;
  let reported: Partial<DecisionSettings> = {};
  const target = common.extender;
  if (!target) extender = { unavailable: "not asked (--extender=none)" };
  else {
    const asked = target instanceof URL ? target.href : serviceRefText(target);
    try {
      const reply = await reader.extenderCache(target);
      const parsed = parseExtenderCache(reply.body);
      if (parsed.ok) {
        reported = parsed.settings;
        extender = { from: reply.from, ledger: parsed.ledger };
      } else {
        const who = reply.from === asked ? asked : `${asked} (${reply.from})`;
        extender = { unavailable: `extender ${who}: ${parsed.error}` };
      }
    } catch (e) {
      extender = { unavailable: `extender ${asked} not reachable: ${errorText(e)}` };
    }
  }
  return { settings: { ...DEFAULT_SETTINGS, ...reported, ...common.overrides }, extender };
}
