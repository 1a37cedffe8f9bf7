import type { ClusterReader } from "../cluster/reader.js";
import { addReservations, storeFor } from "../cluster/state.js";
import { candidateNodes, explain, nodeArithmetic } from "../explain/explain.js";
import { renderArithmetic, renderExplanation } from "../explain/render.js";
import { machineText } from "../output/format.js";
import { errorText } from "../cluster/api-error.js";
import { CommandError, decisionInputs, type CommonOptions } from "./inputs.js";

export interface ExplainOptions {
  pod: string;
  /** Show the whole arithmetic of this node. */
  node?: string;
}

/**
 * `kubectl nls explain POD`: what the pod asks for and, per node, the extender's filter answer computed
 * by its own code over the live objects plus the extender's live reservations; with `--node` the
 * arithmetic of one node.
 */
export async function explainCommand(
  reader: ClusterReader,
  common: CommonOptions,
  options: ExplainOptions,
  now: () => number,
): Promise<string> {
  const pod = await reader.pod(common.namespace, options.pod);
  if (!pod) throw new CommandError(`pod ${common.namespace}/${options.pod} not found`);
  const { settings, extender } = await decisionInputs(reader, common);
  const state = await reader.state(settings.leaseNamespace);
  const store = storeFor(state, settings);
  const reservations = extender.ledger ? addReservations(store, extender.ledger) : 0;
  const nodes = candidateNodes(state);
  if (options.node !== undefined && !nodes.includes(options.node) && !store.node(options.node)) {
    throw new CommandError(`node ${options.node} not found (no Node, no NodeLocalStorage)`);
  }
  const at = now();
  const explanation = explain(pod, store, nodes, settings, at);
  const verdict = explanation.nodes.find((n) => n.node === options.node);
  const arithmetic =
    options.node === undefined ? undefined : nodeArithmetic(options.node, state, store, settings, at, verdict);
  let messages: string[] = [];
  let eventsError: string | undefined;
  try {
    messages = await reader.schedulingMessages(common.namespace, options.pod);
  } catch (e) {
    eventsError = errorText(e);
  }
  const reservationsFrom = extender.ledger
    ? { from: extender.from, count: reservations }
    : { unavailable: extender.unavailable };
  if (common.output === "json" || common.output === "yaml") {
    return machineText(common.output, {
      ...explanation,
      ...(arithmetic ? { arithmetic } : {}),
      schedulerMessages: messages,
      settings,
      reservations: reservationsFrom,
    });
  }
  // With --node the one node's arithmetic replaces the table of every node; the summary stays.
  const lines = renderExplanation(
    explanation,
    messages,
    arithmetic ? renderArithmetic(arithmetic, explanation) : undefined,
  );
  if (eventsError) lines.push(`(events not readable: ${eventsError})`);
  lines.push(
    `decided as the extender does: strategy ${settings.strategy}, --agent-lease=${settings.leaseMode}, ` +
      `Leases in ${settings.leaseNamespace}; ` +
      (extender.ledger
        ? `${reservations} live reservation${reservations === 1 ? "" : "s"} from ${extender.from}`
        : `without the extender's live reservations (${extender.unavailable})`),
  );
  return `${lines.join("\n")}\n`;
}
