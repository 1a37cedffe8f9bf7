import type { Request, Response } from "express";
import { filterResult, parseExtenderArgs } from "@nls/api";
import { filterNodes, holdReservations, podKey } from "../decide.js";
import { isPassThrough, podStorage } from "../request.js";
import { HttpError } from "./body.js";
import type { RouteContext } from "./context.js";

/** POST /scheduler/predicates */
export const filterRoute =
  (ctx: RouteContext) =>
  (req: Request, res: Response): void => {
    const end = ctx.metrics.requestDuration.startTimer({ verb: "filter" });
    const args = parseExtenderArgs(req.body);
    if (!args.ok) throw new HttpError(400, `invalid ExtenderArgs: ${args.error}`);
    const { pod, nodeNames } = args.value;
    const storage = podStorage(pod, ctx.store);
    if (isPassThrough(storage)) {
      res.json(filterResult(args.value, nodeNames, {}, {}));
      end();
      return;
    }
    const now = ctx.now();
    ctx.store.ledger.expire(now);
    const outcome = filterNodes(storage, nodeNames, ctx.store, ctx.store.options.strategy, now);
    let reserved = 0;
    if (outcome.onlyPlacement) {
      reserved = holdReservations(ctx.store.ledger, pod, storage, outcome.onlyPlacement, ctx.reservationTtlMs, now);
    }
    ctx.metrics.countFailures(outcome.failures);
    ctx.log.info(
      {
        verb: "filter",
        pod: podKey(pod),
        volumes: storage.requests.length,
        nodes: nodeNames.length,
        passing: outcome.passing.length,
        failures: outcome.failures,
        ...(outcome.passing.length <= 3 ? { passingNodes: outcome.passing } : {}),
        ...(reserved ? { reservedOn: outcome.passing[0], reserved } : {}),
      },
      "filter",
    );
    res.json(filterResult(args.value, outcome.passing, outcome.failed, outcome.unresolvable));
    end();
  };
