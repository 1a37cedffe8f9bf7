import { LEASE_MODES, STRATEGIES, type LedgerSnapshot } from "@nls/extender";
import type { DecisionSettings } from "./state.js";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The parts of the extender's `GET /cache` body `kubectl nls` uses: its settings (absent from older
 * extenders) and its ledger. Anything else about the body is ignored; a body without a ledger is an error.
 */
export function parseExtenderCache(
  body: unknown,
): { ok: true; settings: Partial<DecisionSettings>; ledger: LedgerSnapshot } | { ok: false; error: string } {
  if (!isRecord(body) || !isRecord(body.ledger) || !isRecord(body.ledger.nodes) || !isRecord(body.ledger.claims)) {
    return { ok: false, error: "the reply has no ledger (is it the nls extender?)" };
  }
  const settings: Partial<DecisionSettings> = {};
  const s = isRecord(body.settings) ? body.settings : {};
  if (STRATEGIES.includes(s.strategy as never)) settings.strategy = s.strategy as DecisionSettings["strategy"];
  if (LEASE_MODES.includes(s.leaseMode as never)) settings.leaseMode = s.leaseMode as DecisionSettings["leaseMode"];
  if (typeof s.leaseNamespace === "string" && s.leaseNamespace) settings.leaseNamespace = s.leaseNamespace;
  return { ok: true, settings, ledger: body.ledger as unknown as LedgerSnapshot };
}
