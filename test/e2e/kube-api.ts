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
  };
}
