import type { NextFunction, Request, Response } from "express";
import { formatBytesHuman } from "@nls/api";
import type { BodyBudget } from "./body-budget.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads the request body and parses it as JSON into `req.body`, refusing more than `limit` bytes with
 * 413 and malformed JSON with 400. Cheaper than express.json for the hot routes and its errors are ours.
 * With a `budget`, the bytes read count against it until the response is sent; a body that does not fit
 * is refused with 503 before or while it is read.
 */
export function jsonBody(
  limit: number,
  parse: (body: Buffer) => unknown = (body) => JSON.parse(body.toString("utf8")),
  budget?: BodyBudget,
) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      next(tooLarge(limit, declared));
      req.resume();
      return;
    }
    if (budget && Number.isFinite(declared) && declared > budget.limit - budget.inUse) {
      next(busy(budget));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    let held = 0;
    if (budget) res.once("close", () => budget.give(held));
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        next(tooLarge(limit, size));
        return;
      }
      if (budget) {
        if (!budget.take(chunk.length)) {
          done = true;
          next(busy(budget));
          return;
        }
        held += chunk.length;
      }
      chunks.push(chunk);
    });
    req.on("error", (err) => {
      if (done) return;
      done = true;
      next(new HttpError(400, `could not read request body: ${err.message}`));
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (isBlank(bytes)) {
        next(new HttpError(400, "request body is empty; expected JSON"));
        return;
      }
      try {
        req.body = parse(bytes);
      } catch (e) {
        next(new HttpError(400, `malformed JSON: ${(e as Error).message}`));
        return;
      }
      next();
    });
  };
}

/** Nothing but JSON whitespace (space, tab, CR, LF). */
function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  return true;
}

const busy = (budget: BodyBudget) =>
  new HttpError(
    503,
    `busy: ${formatBytesHuman(budget.inUse)} of request bodies are being read, at most ${formatBytesHuman(budget.limit)} at once (2 × --max-body-bytes); try again`,
  );

const tooLarge = (limit: number, size: number) =>
  new HttpError(
    413,
    `request body of ${formatBytesHuman(size)} exceeds the limit of ${formatBytesHuman(limit)} (--max-body-bytes)`,
  );
