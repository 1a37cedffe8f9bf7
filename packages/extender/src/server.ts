import { createServer as createHttp, IncomingMessage, ServerResponse, type Server } from "node:http";
import { createServer as createHttps, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { Access } from "./auth/access.js";
import { requireAccess } from "./auth/middleware.js";
import { renderVerbose } from "./readiness.js";
import { HttpError, jsonBody } from "./routes/body.js";
import { BodyBudget } from "./routes/body-budget.js";
import { ScoreMemo, type RouteContext } from "./routes/context.js";
import { cacheRoute } from "./routes/debug.js";
import { filterRoute } from "./routes/filter.js";
import { prioritizeRoute } from "./routes/prioritize.js";
import { reserveRoute } from "./routes/reserve.js";
import { writeInTurns } from "./routes/write-in-turns.js";
import type { TlsMaterial } from "./tls/reloading-tls.js";
import { NodeNamesCache } from "./wire-cache.js";
import { admissionRoute } from "./webhook/route.js";

const RESERVE_PATH = "/apis/scheduling/:namespace/persistentvolumeclaims/:name";
/** Where the API server sends pods to be marked (the MutatingWebhookConfiguration's service path). */
export const ADMISSION_PATH = "/admission/local-storage";
/** The largest AdmissionReview the webhook reads (or `--max-body-bytes`, when smaller). */
export const WEBHOOK_MAX_BODY_BYTES = 8 * 2 ** 20;

/** Lets every request through: the extender without `--authorization-mode=Webhook`. */
export const allowAll = (): Access =>
  new Access({
    mode: "AlwaysAllow",
    tokenReview: false,
    reviews: {
      token: () => Promise.reject(new Error("no reviews in AlwaysAllow mode")),
      allowed: () => Promise.reject(new Error("no reviews in AlwaysAllow mode")),
    },
    now: Date.now,
  });

/**
 * A standby's ledger holds none of the leader's tentative reservations: it must not decide. Its 503
 * closes the connection: a client's kept-alive connection outlives a change of endpoints (kube-proxy
 * keeps established connections to a replica that left the EndpointSlice), so without it a caller
 * could keep asking a deposed leader; reconnecting reaches the current one.
 */
const servingOnly = (ctx: RouteContext) => (_req: Request, res: Response, next: NextFunction) => {
  const reason = ctx.notServing();
  if (reason) res.set("Connection", "close");
  next(reason ? new HttpError(503, reason) : undefined);
};

/**
 * The public port: kube-scheduler's verbs (`schedule`), the reserve route (`reserve`), health,
 * version and metrics. `access` decides who may call the first two, before their body is read. The
 * debug views are not here (`createDebugApp`).
 */
export function createApp(ctx: RouteContext, access: Access = allowAll()): express.Express {
  const app = baseApp();
  const names = new NodeNamesCache();
  const memo = new ScoreMemo();
  // Two bodies' worth at once: kube-scheduler sends one request at a time per profile.
  const body = jsonBody(ctx.maxBodyBytes, (bytes) => names.parseDeferring(bytes), new BodyBudget(2 * ctx.maxBodyBytes));
  const serving = servingOnly(ctx);
  const schedule = requireAccess(access, "schedule", ctx.log);
  app.post("/scheduler/predicates", schedule, serving, body, filterRoute(ctx, names, memo));
  app.post("/scheduler/priorities", schedule, serving, body, prioritizeRoute(ctx, memo, names));
  app.post(
    RESERVE_PATH,
    requireAccess(access, "reserve", ctx.log, (req) => String(req.params.namespace)),
    serving,
    reserveRoute(ctx),
  );
  app.get("/healthz", (_req, res) => void res.type("text").send("ok"));
  app.get("/readyz", (req, res) => {
    const reason = ctx.notReady();
    if (reason) res.status(503);
    if (req.query.verbose === undefined) res.type("text").send(reason ?? "ok");
    else res.type("text").send(renderVerbose(ctx.readyChecks?.() ?? [{ name: "ready", problem: reason }]));
  });
  app.get("/version", (_req, res) => void res.json(ctx.build));
  app.get("/metrics", async (_req, res) => {
    let gone = false;
    res.once("close", () => (gone = true));
    const parts = await ctx.metrics.exposition(undefined, () => gone);
    if (!parts) return;
    res.type(ctx.metrics.registry.contentType);
    res.setHeader(
      "Content-Length",
      parts.reduce((n, p) => n + p.length, 0),
    );
    await writeInTurns(res, parts, () => gone);
  });
  return withErrors(app, ctx);
}

/**
 * The reserve route alone, with no credentials asked: for open-local's CSI driver, which sends none
 * (`--reserve-port`). Who can reach it is a NetworkPolicy's job; what it may do is the reserve route's
 * own check (a pending claim, selected for that node, of a waiting pod).
 */
export function createReserveApp(ctx: RouteContext): express.Express {
  const app = baseApp();
  app.post(RESERVE_PATH, servingOnly(ctx), reserveRoute(ctx));
  return withErrors(app, ctx);
}

/**
 * The mutating admission webhook alone (`--webhook-port`, always HTTPS: the API server calls webhooks
 * over TLS only). It asks no credentials: its answer only adds a resource request to the pod the caller
 * sent, and what it reads is the caches (which claims are local).
 */
export function createWebhookApp(ctx: RouteContext): express.Express {
  const app = baseApp();
  // A pod is at most a few MiB (the API server's request limit); the port asks no credentials, so
  // neither one body nor many slow ones may take more than that much memory each, and 64 MiB at once.
  const limit = Math.min(ctx.maxBodyBytes, WEBHOOK_MAX_BODY_BYTES);
  const budget = new BodyBudget(8 * limit);
  app.post(ADMISSION_PATH, jsonBody(limit, undefined, budget), admissionRoute(ctx));
  return withErrors(app, ctx);
}

/** The operators' views (`GET /cache`), served on `--debug-address` (the pod's loopback by default). */
export function createDebugApp(ctx: RouteContext): express.Express {
  const app = baseApp();
  app.get("/cache", cacheRoute(ctx));
  return withErrors(app, ctx);
}

function baseApp(): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  return app;
}

function withErrors(app: express.Express, ctx: RouteContext): express.Express {
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
          : req.path === ADMISSION_PATH
            ? "admission"
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

/**
 * Request and response classes whose instances are made with the prototypes `app` gives them.
 * Express sets every request's and response's prototype to its app's (`Object.setPrototypeOf` in
 * `app.handle`), and V8 pays for an object whose prototype changes after it was made: with that call,
 * ~5 KiB of every request outlived two young-generation collections into the old generation (117 MB
 * over ~25,000 requests to a plain express app, against 0.4 MB for ~45,000 to a bare `http` handler),
 * which only a full collection frees, so the extender's heap grew to several times what it holds
 * between full collections. Here the app's prototypes become those of two subclasses (each inheriting
 * what the app's own had), and the server makes its requests and responses from them: express's call
 * then finds the prototype already in place and changes nothing.
 */
export function expressShaped(app: express.Express): Shaped {
  const known = shapedApps.get(app);
  if (known) return known;
  class Request extends IncomingMessage {}
  class Response extends ServerResponse {}
  Object.setPrototypeOf(Request.prototype, app.request);
  Object.setPrototypeOf(Response.prototype, app.response);
  app.request = Request.prototype as unknown as typeof app.request;
  app.response = Response.prototype as unknown as typeof app.response;
  const shaped = { IncomingMessage: Request, ServerResponse: Response as typeof ServerResponse };
  shapedApps.set(app, shaped);
  return shaped;
}

interface Shaped {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}
/** An app served twice (two listeners) keeps one pair of classes rather than a longer chain each time. */
const shapedApps = new WeakMap<express.Express, Shaped>();

export interface RunningServer {
  server: Server;
  port: number;
  /** New TLS files for new connections (an HTTPS server only; see TlsReloader). */
  setTls(material: TlsMaterial): void;
  close(): Promise<void>;
}

/** An HTTPS server whose certificate comes later (`setTls`): until then every handshake fails. */
export const CERTIFICATE_LATER = "certificate-later";

export async function listen(
  app: express.Express,
  port: number,
  host?: string,
  tls?: TlsMaterial | typeof CERTIFICATE_LATER,
): Promise<RunningServer> {
  // With a client CA, clients are asked for a certificate; one that does not verify still connects
  // (and gets 401 from a protected route), so probes and metrics need none.
  const shaped = expressShaped(app);
  const server: Server =
    tls === CERTIFICATE_LATER
      ? createHttps(shaped, app)
      : tls
        ? createHttps({ ...shaped, ...tls, requestCert: !!tls.ca, rejectUnauthorized: false }, app)
        : createHttp(shaped, app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    setTls: (material) => {
      if (!tls) throw new Error("not an HTTPS server");
      (server as HttpsServer).setSecureContext({ ...material });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
