import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { ApiEndpoint } from "./api-endpoint.js";
import { KubeError } from "./client.js";

/**
 * How long one API call may take, and a watch to be answered. A call hanging on a half-dead connection
 * would otherwise stall the reconcile loop (and a graceful shutdown) forever.
 */
export const API_CALL_TIMEOUT_MS = 30_000;

/** TCP keep-alive probes on a watch's connection, so a peer that vanished without a FIN is noticed. */
const WATCH_KEEPALIVE_MS = 30_000;

/** One event of a watch stream (`BOOKMARK` and `ERROR` included; the caller decides). */
export interface WatchEvent {
  type: string;
  object: unknown;
}

/**
 * JSON over HTTP(S) to the API server with `node:http`/`node:https` and one keep-alive agent: single
 * requests and streaming watches (newline-delimited JSON). Errors carry what was attempted: an HTTP error
 * is a `KubeError` with the status code and the server's message, anything else a plain `Error`.
 * A 401 is retried once when the credentials changed since (a rotated token file).
 */
export class ApiTransport {
  private readonly agent: http.Agent;
  private readonly secure: boolean;

  constructor(
    private readonly endpoint: ApiEndpoint,
    private readonly timeoutMs = API_CALL_TIMEOUT_MS,
  ) {
    this.secure = endpoint.server.startsWith("https:");
    this.agent = this.secure
      ? new https.Agent({ keepAlive: true, ...endpoint.tls })
      : new http.Agent({ keepAlive: true });
  }

  /** `method path` with `body` as JSON; the parsed answer of a 2xx, else a `KubeError`. */
  async request<T>(what: string, method: string, path: string, body?: unknown): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const res = await this.send(method, path, body, controller.signal);
      const text = await readAll(res);
      const code = res.statusCode ?? 0;
      if (code < 200 || code > 299) throw new KubeError(code, `${what}: HTTP ${code}: ${statusMessage(text)}`);
      return JSON.parse(text) as T;
    } catch (err) {
      throw this.named(what, err, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A watch on `path` (query included). Resolves once the server answered; from then on `onEvent` sees
   * every event and `onDone` is called exactly once when the stream ends — `undefined` when the server
   * closed it, else the error (a non-200 answer is a `KubeError`; a line that is not JSON ends it too).
   * `stop()` ends it without calling `onDone`.
   */
  async watch(
    what: string,
    path: string,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: unknown) => void,
  ): Promise<{ stop(): void }> {
    const controller = new AbortController();
    let finished = false;
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      controller.abort();
      onDone(err);
    };
    const handle = {
      stop: () => {
        finished = true;
        controller.abort();
      },
    };
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let res: IncomingMessage;
    try {
      res = await this.send("GET", path, undefined, controller.signal, (socket) =>
        socket.setKeepAlive(true, WATCH_KEEPALIVE_MS),
      );
      if (res.statusCode !== 200) {
        const text = await readAll(res);
        throw new KubeError(res.statusCode ?? 0, `${what}: HTTP ${res.statusCode}: ${statusMessage(text)}`);
      }
    } catch (err) {
      if (!finished) finish(this.named(what, err, controller.signal));
      return handle;
    } finally {
      clearTimeout(timer);
    }
    let buffered = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while (!finished && (newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        let event: WatchEvent;
        try {
          event = JSON.parse(line) as WatchEvent;
        } catch {
          finish(new Error(`${what}: the server sent a line that is not JSON: ${line.slice(0, 200)}`));
          return;
        }
        onEvent(event);
      }
    });
    res.on("end", () => finish());
    res.on("error", (err) => finish(new Error(`${what}: ${err.message}`, { cause: err })));
    res.on("close", () => finish(res.complete ? undefined : new Error(`${what}: connection closed`)));
    return handle;
  }

  /** Sends the request; after a 401 once more if the credentials changed (a rotated token). */
  private async send(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal,
    onSocket?: (socket: import("node:net").Socket) => void,
  ): Promise<IncomingMessage> {
    const authorization = await this.endpoint.credentials.authorization();
    const res = await this.sendOnce(method, path, body, authorization, signal, onSocket);
    if (res.statusCode !== 401) return res;
    const fresh = await this.endpoint.credentials.refreshed(authorization);
    if (fresh === undefined) return res;
    res.resume();
    return this.sendOnce(method, path, body, fresh, signal, onSocket);
  }

  private sendOnce(
    method: string,
    path: string,
    body: unknown,
    authorization: string | undefined,
    signal: AbortSignal,
    onSocket?: (socket: import("node:net").Socket) => void,
  ): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { Accept: "application/json", ...this.endpoint.headers };
    if (authorization) headers.Authorization = authorization;
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(payload);
    }
    const request = this.secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(`${this.endpoint.server}${path}`, { method, headers, agent: this.agent, signal }, resolve);
      req.on("error", reject);
      if (onSocket) req.on("socket", onSocket);
      req.end(payload);
    });
  }

  /** `err` as the error of `what`: a timeout says so, a `KubeError` stays one, anything else is named. */
  private named(what: string, err: unknown, signal: AbortSignal): Error {
    if (err instanceof KubeError) return err;
    if (signal.aborted) return new Error(`${what}: no answer within ${this.timeoutMs / 1000}s`);
    return new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => (text += chunk));
    res.on("end", () => resolve(text));
    res.on("error", reject);
  });
}

/** The `message` of a Kubernetes Status body when there is one, else the body itself. */
export function statusMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === "object" && "message" in parsed && typeof parsed.message === "string")
      return parsed.message;
  } catch {
    // not JSON: the body as it came
  }
  return body;
}
