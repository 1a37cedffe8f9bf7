import type { Request, Response } from "express";
import { parseExtenderArgs } from "@nls/api";
import { holdReservations, podKey, scoreNodes } from "../decide.js";
import { podStorage } from "../request.js";
import { HttpError } from "./body.js";
import type { RouteContext } from "./context.js";

/** POST /scheduler/priorities: scores only, never fails for unknown nodes. */
export const prioritizeRoute =
  (ctx: RouteContext) =>
  (req: Request, res: Response): void => {
    const end = ctx.metrics.requestDuration.startTimer({ verb: "prioritize" });
    const args = parseExtenderArgs(req.body);
    if (!args.ok) throw new HttpError(400, `invalid ExtenderArgs: ${args.error}`);
    const { pod, nodeNames } = args.value;
    const storage = podStorage(pod, ctx.store);
    const now = ctx.now();
    if (storage.requests.length > 0) ctx.store.ledger.expire(now);
    const outcome = scoreNodes(storage, nodeNames, ctx.store, ctx.store.options.strategy, now);
    let reserved = 0;
    let reservedOn: string | undefined;
    if (outcome.best && outcome.best.length > 0) {
      reservedOn = outcome.best[0]!.node;
      reserved = holdReservations(ctx.store.ledger, pod, storage, outcome.best, ctx.reservationTtlMs, now);
    }
    if (storage.requests.length > 0) {
      ctx.log.info(
        {
          verb: "prioritize",
          pod: podKey(pod),
          nodes: nodeNames.length,
          ...(reserved ? { reservedOn, reserved } : {}),
        },
        "prioritize",
      );
    }
    res.json(outcome.scores);
    end();
  };
