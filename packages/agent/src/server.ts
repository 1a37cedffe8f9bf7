import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ListenAddress, Logger } from "@nls/daemon";

export interface ServerDeps {
  /** Ready once the agent has completed a reconcile; `/readyz` answers 503 until then. */
  isReady: () => boolean;
  metrics: () => Promise<string>;
  metricsContentType: string;
  log: Logger;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** `/healthz` (the process serves requests), `/readyz` (first reconcile done) and `/metrics`. */
export async function startServer(addr: ListenAddress, deps: ServerDeps): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (code: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "method not allowed\n");
    switch (path) {
      case "/healthz":
        return reply(200, "ok\n");
      case "/readyz":
        return deps.isReady() ? reply(200, "ok\n") : reply(503, "not ready: no successful reconcile yet\n");
      case "/metrics":
        deps.metrics().then(
          (text) => reply(200, text, deps.metricsContentType),
          (err: unknown) => {
            deps.log.error({ err }, "rendering metrics failed");
            reply(500, "metrics unavailable\n");
          },
        );
        return;
      default:
        return reply(404, "not found\n");
    }
  });
  // Connections from Prometheus keep alive; do not let them hold shutdown up.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
