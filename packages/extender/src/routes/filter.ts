import type { Request, Response } from "express";
import { filterResult, type ExtenderFilterResult, type FailedNodesMap, type ParsedExtenderArgs } from "@nls/api";
import { filterNodes, keepChoiceOnly, podKey, podUid } from "../decide.js";
import { refusalSummary } from "../reasons.js";
import { isPassThrough } from "../request.js";
import { schedulerRequest, type RouteContext, type ScoreMemo } from "./context.js";
import { passAllRaw, type NodeNamesCache } from "../wire-cache.js";

/**
 * The reply in the field the request used. `passing` keeps the request's order, so in NodeNames mode
 * it is the answer as is (no set building over thousands of names).
 */
function send(
  res: Response,
  names: NodeNamesCache,
  args: ParsedExtenderArgs,
  passing: string[],
  unresolvable: FailedNodesMap,
): void {
  if (args.mode === "names") {
    // Every node passed and the list is the cached one: the answer is already encoded.
    const all = passing.length === args.nodeNames.length ? names.passAllReply(args.nodeNames) : undefined;
    if (all !== undefined) {
      res.type("json").send(all);
      return;
    }
    const result: ExtenderFilterResult = {
      NodeNames: passing,
      Nodes: null,
      FailedNodes: {},
      FailedAndUnresolvableNodes: unresolvable,
      Error: "",
    };
    res.json(result);
    return;
  }
  res.json(filterResult(args, passing, {}, unresolvable));
}

/** A JSON answer written as the buffers it is made of, in one go (corked), its length declared. */
function sendParts(res: Response, parts: readonly Buffer[]): void {
  res.type("json");
  res.setHeader(
    "Content-Length",
    parts.reduce((n, p) => n + p.length, 0),
  );
  res.cork();
  for (const part of parts) res.write(part);
  res.end();
}

/** POST /scheduler/predicates */
export const filterRoute =
  (ctx: RouteContext, names: NodeNamesCache, memo: ScoreMemo) =>
  (req: Request, res: Response): void => {
    const end = ctx.metrics.requestDuration.startTimer({ verb: "filter" });
    const { args, storage, raw } = schedulerRequest(ctx, req.body, names);
    const { pod, nodeNames } = args;
    if (isPassThrough(storage)) {
      // Most pods have no local volumes: debug only, so info logs stay one line per real decision.
      ctx.log.debug({ verb: "filter", pod: podKey(pod), nodes: raw?.count ?? nodeNames.length }, "pass-through");
      // A list left undecoded goes back as it came: every node passes.
      if (raw) sendParts(res, passAllRaw(raw));
      else send(res, names, args, nodeNames, {});
      end();
      return;
    }
    const now = ctx.now();
    ctx.store.expire(now);
    const outcome = filterNodes(storage, nodeNames, ctx.store, ctx.store.options.strategy, now);
    const decide = ctx.placement === "decide";
    let reserved = 0;
    if (outcome.choice && (decide || outcome.passing.length === 1)) {
      reserved = ctx.store.hold(pod, storage, outcome.choice.placements, ctx.reservationTtlMs, now);
      if (decide) keepChoiceOnly(outcome);
    } else memo.remember(podUid(pod), ctx.store.revision, outcome.passing, outcome.passingPreferences);
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
        ...(reserved ? { reservedOn: outcome.choice!.node, reserved } : {}),
        // What kube-scheduler shows, by reason, with one node's numbers each (every node's at debug).
        ...(outcome.passing.length < nodeNames.length
          ? { refusals: refusalSummary(outcome.unresolvable, outcome.details) }
          : {}),
      },
      "filter",
    );
    if (outcome.passing.length < nodeNames.length && ctx.log.isLevelEnabled("debug")) {
      ctx.log.debug({ verb: "filter", pod: podKey(pod), details: outcome.details }, "filter refusals");
    }
    send(res, names, args, outcome.passing, outcome.unresolvable);
    end();
  };
