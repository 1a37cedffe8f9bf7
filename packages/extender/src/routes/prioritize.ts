import type { Request, Response } from "express";
import { hostPriorities, podKey, podUid, scoreNodes } from "../decide.js";
import type { NodeNamesCache } from "../wire-cache.js";
import { schedulerRequest, type RouteContext, type ScoreMemo } from "./context.js";

/**
 * POST /scheduler/priorities: 10 for the node the pod's volumes are held on, 0 (left out of the answer)
 * elsewhere; never fails.
 */
export const prioritizeRoute =
  (ctx: RouteContext, memo: ScoreMemo, names: NodeNamesCache) =>
  (req: Request, res: Response): void => {
    const end = ctx.metrics.requestDuration.startTimer({ verb: "prioritize" });
    // A pass-through pod's list may stay undecoded: it gets the empty answer below without it.
    const { args, storage } = schedulerRequest(ctx, req.body, names);
    const { pod, nodeNames } = args;
    if (storage.requests.length === 0) {
      // Every node would score 0, which is what a node missing from the answer gets: an empty list
      // spares kube-scheduler decoding one entry per node for a pod nls has nothing to say about.
      res.type("json").send("[]");
      end();
      return;
    }
    const now = ctx.now();
    ctx.store.expire(now);
    const known = memo.recall(podUid(pod), ctx.store.revision, nodeNames);
    const outcome = scoreNodes(storage, nodeNames, ctx.store, ctx.store.options.strategy, now, known);
    let reserved = 0;
    let reservedOn: string | undefined;
    if (outcome.choice) {
      reservedOn = outcome.choice.node;
      reserved = ctx.store.hold(pod, storage, outcome.choice.placements, ctx.reservationTtlMs, now);
    }
    ctx.log.info(
      {
        verb: "prioritize",
        pod: podKey(pod),
        nodes: nodeNames.length,
        ...(reserved ? { reservedOn, reserved } : {}),
      },
      "prioritize",
    );
    res.json(hostPriorities(nodeNames, outcome.scores));
    end();
  };
