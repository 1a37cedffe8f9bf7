import type { Request, Response } from "express";
import type { Ledger } from "../ledger.js";
import type { NodeView } from "../node-view.js";
import type { RouteContext } from "./context.js";
import { overcommittedVgs } from "../overcommit.js";

/**
 * Every device and mount point of a node with what it is to the extender: `free` (offered), `reserved` (a claim on its
 * way holds it), `bound` (a PV holds it — also when the agent reports it in use, as a volume's device
 * is once written to), or `in use` (the agent's reasons; never offered).
 */
export function deviceStates(view: NodeView, ledger: Ledger) {
  const usage = ledger.usage(view.name);
  const state = (name: string, idle: "free" | "in use") => {
    const claim = usage?.devices.get(name);
    if (claim === undefined) return { state: idle };
    return { state: ledger.effective(claim)?.kind === "pv" ? "bound" : "reserved", claim };
  };
  return [
    ...view.devices.map((d) => ({ ...d, ...state(d.name, "free") })),
    ...view.busyDevices.map((d) => ({ ...d, kind: "device" as const, ...state(d.name, "in use") })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** GET /cache[?nodeName=]: the settings that shape decisions, the ledger and the node views, for operators. */
export const cacheRoute =
  (ctx: RouteContext) =>
  (req: Request, res: Response): void => {
    const nodeName = typeof req.query.nodeName === "string" && req.query.nodeName ? req.query.nodeName : undefined;
    const store = ctx.store;
    const names = nodeName ? [nodeName] : store.nodeNames();
    const now = ctx.now();
    const nodes = Object.fromEntries(
      names.map((n) => {
        const view = store.node(n);
        return [
          n,
          {
            nls: !!view,
            agentProblem: store.agentProblem(n, now) ?? null,
            vgs: view?.vgs ?? [],
            devices: view ? deviceStates(view, store.ledger) : [],
            // The LVs counted in their VG's allocatable, and those no PV or claim accounts for, which the
            // ledger counts as used (an operator removes them).
            lvs: view?.lvs ?? [],
            unexplainedLvs: store.unexplainedLvs(n),
            // Committed beyond what a VG holds (an expansion that does not fit, say), and the expansions.
            overcommitted: store.record(n)?.state ? overcommittedVgs(store.record(n)!.state!) : [],
            expansions: store.expansions(n),
          },
        ];
      }),
    );
    const { strategy, leaseMode, leaseNamespace } = store.options;
    res.json({
      settings: { strategy, leaseMode, leaseNamespace, reservationTtlSeconds: ctx.reservationTtlMs / 1000 },
      nodes,
      ledger: store.ledger.snapshot(nodeName),
      reservations: {
        live: store.ledger.liveReservations,
        created: store.ledger.created,
        misplaced: store.ledger.misplaced,
        released: store.ledger.released,
      },
    });
  };
