import type { Request, Response } from "express";
import type { RouteContext } from "./context.js";

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
            devices: view?.devices ?? [],
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
