import type { TLSSocket } from "node:tls";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "@nls/daemon";
import { HttpError } from "../routes/body.js";
import type { Access, AccessVerb } from "./access.js";
import type { PeerCertificateView } from "./identity.js";

/** The TLS peer of a request, when it came over HTTPS. */
function peerOf(req: Request): PeerCertificateView | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== "function") return undefined;
  return {
    authorized: socket.authorized === true,
    authorizationError: socket.authorizationError,
    subject: socket.getPeerCertificate().subject,
  };
}

/**
 * Lets a request through to its route only when `access` allows `verb`, checked from the connection
 * and the headers alone: a refused client's body is never read, and its connection is closed after the
 * answer (401 no or bad credentials, 403 not allowed, 503 the API server could not be asked).
 */
export function requireAccess(
  access: Access,
  verb: AccessVerb,
  log: Logger,
  namespaceOf?: (req: Request) => string | undefined,
) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (access.mode === "AlwaysAllow") {
      next();
      return;
    }
    const namespace = namespaceOf?.(req);
    access
      .check(peerOf(req), req.headers.authorization, verb, namespace)
      .then((verdict) => {
        if (verdict.ok) {
          next();
          return;
        }
        log.warn(
          { verb, path: req.path, status: verdict.status, user: verdict.user, reason: verdict.message },
          "access refused",
        );
        res.setHeader("Connection", "close");
        next(new HttpError(verdict.status, verdict.message));
      })
      .catch(next);
  };
}
