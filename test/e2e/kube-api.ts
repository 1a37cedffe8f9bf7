import { request } from "node:https";

/**
 * JSON over the test control plane's API server (self-signed serving certificate, bearer token): what
 * a controller stand-in needs to list, create and patch objects without spawning kubectl each time.
 */
export interface KubeApi {
  get<T = unknown>(path: string): Promise<T>;
  /** GET that resolves undefined on 404. */
  find<T = unknown>(path: string): Promise<T | undefined>;
  post<T = unknown>(path: string, body: unknown): Promise<T>;
  /** JSON merge patch. */
  patch<T = unknown>(path: string, body: unknown): Promise<T>;
  /** DELETE with optional DeleteOptions (grace period, preconditions). */
  delete<T = unknown>(path: string, options?: unknown): Promise<T>;
  /**
   * Watches a collection (`path` may carry a query such as `resourceVersion`): `onEvent` gets each
   * event of the NDJSON stream in order, ERROR events included; `onEnd` is called once when the stream
   * ends (with the error, if one ended it) and never after `close()`.
   */
  watch<T = unknown>(path: string, onEvent: (event: WatchEvent<T>) => void, onEnd: (error?: Error) => void): Watch;
}

/** One event of a watch: ADDED, MODIFIED, DELETED, BOOKMARK, or ERROR (whose object is a Status). */
export interface WatchEvent<T = unknown> {
  type: string;
  object: T;
}

export interface Watch {
  /** Ends the stream and releases its socket; no event or end is reported after it. */
  close(): void;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function kubeApi(server: string, token: string): KubeApi {
  const call = <T>(method: string, path: string, body?: unknown, contentType = "application/json") =>
    new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        new URL(path, server),
        {
          method,
          rejectUnauthorized: false,
          headers: {
            authorization: `Bearer ${token}`,
            accept: "application/json",
            // Explicit: Node sends a DELETE body neither chunked nor with a length unless told.
            ...(payload === undefined
              ? {}
              : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
          },
          timeout: 30_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(JSON.parse(text) as T);
            else reject(new KubeApiError(status, `${method} ${path}: ${status} ${text}`));
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on("error", reject);
      req.end(payload);
    });
  return {
    get: (path) => call("GET", path),
    async find(path) {
      try {
        return await call("GET", path);
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) return undefined;
        throw e;
      }
    },
    post: (path, body) => call("POST", path, body),
    patch: (path, body) => call("PATCH", path, body, "application/merge-patch+json"),
    delete: (path, options) => call("DELETE", path, options),
    watch: (path, onEvent, onEnd) => watchStream(server, token, path, onEvent, onEnd),
  };
}

function watchStream<T>(
  server: string,
  token: string,
  path: string,
  onEvent: (event: WatchEvent<T>) => void,
  onEnd: (error?: Error) => void,
): Watch {
  const url = new URL(path, server);
  url.searchParams.set("watch", "1");
  let closed = false;
  const end = (error?: Error) => {
    if (closed) return;
    closed = true;
    req.destroy();
    onEnd(error);
  };
  // No timeout: a watch is quiet for as long as nothing changes; the API server ends it after its
  // --min-request-timeout.
  const req = request(
    url,
    { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}`, accept: "application/json" } },
    (res) => {
      const status = res.statusCode ?? 0;
      let buffered = "";
      res.setEncoding("utf8");
      if (status !== 200) {
        res.on("data", (d: string) => (buffered += d));
        res.on("end", () => end(new KubeApiError(status, `GET ${url.pathname}${url.search}: ${status} ${buffered}`)));
        return;
      }
      res.on("data", (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while (!closed && (newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (!line.trim()) continue;
          let event: WatchEvent<T>;
          try {
            event = JSON.parse(line) as WatchEvent<T>;
          } catch (e) {
            return end(e as Error);
          }
          onEvent(event);
        }
      });
      res.on("end", () => end());
      res.on("error", end);
      // A connection cut mid-stream may close the response without an end.
      res.on("close", () => end());
    },
  );
  req.on("error", end);
  req.end();
  return {
    close() {
      closed = true;
      req.destroy();
    },
  };
}
