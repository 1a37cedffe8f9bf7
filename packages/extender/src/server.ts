import { createServer as createHttp, type Server } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { renderVerbose } from "./readiness.js";
import { HttpError, jsonBody } from "./routes/body.js";
import { BodyBudget } from "./routes/body-budget.js";
import { ScoreMemo, type RouteContext } from "./routes/context.js";
import { cacheRoute } from "./routes/debug.js";
import { filterRoute } from "./routes/filter.js";
import { prioritizeRoute } from "./routes/prioritize.js";
import { reserveRoute } from "./routes/reserve.js";
import { NodeNamesCache } from "./wire-cache.js";

export function createApp(ctx: RouteContext): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  const names = new NodeNamesCache();
  const memo = new ScoreMemo();
  // Two bodies' worth at once: kube-scheduler sends one request at a time per profile.
  const body = jsonBody(ctx.maxBodyBytes, (text) => names.parse(text), new BodyBudget(2 * ctx.maxBodyBytes));
  // A standby's ledger holds none of the leader's tentative reservations: it must not decide.
  const serving = (_req: Request, _res: Response, next: NextFunction) => {
    const reason = ctx.notServing();
    next(reason ? new HttpError(503, reason) : undefined);
  };
  app.post("/scheduler/predicates", serving, body, filterRoute(ctx, names, memo));
  app.post("/scheduler/priorities", serving, body, prioritizeRoute(ctx, names, memo));
  app.post("/apis/scheduling/:namespace/persistentvolumeclaims/:name", serving, reserveRoute(ctx));
  app.get("/cache", cacheRoute(ctx));
  app.get("/healthz", (_req, res) => void res.type("text").send("ok"));
  app.get("/readyz", (req, res) => {
    const reason = ctx.notReady();
    if (reason) res.status(503);
    if (req.query.verbose === undefined) res.type("text").send(reason ?? "ok");
    else res.type("text").send(renderVerbose(ctx.readyChecks?.() ?? [{ name: "ready", problem: reason }]));
  });
  app.get("/version", (_req, res) => void res.json(ctx.build));
  app.get("/metrics", async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.render());
  });
  app.use((req, _res, next) => next(new HttpError(404, `no route for ${req.method} ${req.path}`)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = err instanceof HttpError ? err.status : 500;
    const message = err instanceof Error ? err.message : String(err);
    if (status >= 500 && !(err instanceof HttpError)) ctx.log.error({ err, path: req.path }, "unhandled error");
    if (status === 400 || status === 413) {
      const verb = req.path.endsWith("/predicates")
        ? "filter"
        : req.path.endsWith("/priorities")
          ? "prioritize"
          : "reserve";
      ctx.metrics.badRequests.inc({ verb });
      // `err` as everywhere else: an object with the message (here: what was wrong with the body).
      ctx.log.warn({ path: req.path, status, err }, "bad request");
    }
    // Scheduler verbs answer in the extender result shape so kube-scheduler logs the reason;
    // everything else (incl. the reserve route, whose caller looks for "Insufficient") gets plain text.
    if (req.path.startsWith("/scheduler/")) res.status(status).json({ Error: message });
    else res.status(status).type("text").send(message);
  });
  return app;
}

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function listen(
  app: express.Express,
  port: number,
  host?: string,
  tls?: TlsFiles,
): Promise<RunningServer> {
  const server: Server = tls ? createHttps({ cert: tls.cert, key: tls.key }, app) : createHttp(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
