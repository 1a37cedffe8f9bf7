import { readFileSync } from "node:fs";
import { request } from "node:https";
import { pod, pvc, type Issued, type TestCa } from "@nls/testkit";
import { createLogger } from "@nls/daemon";
import type { Access } from "../src/auth/access.js";
import { ExtenderMetrics } from "../src/metrics.js";
import type { RouteContext } from "../src/routes/context.js";
import { createApp, listen, type RunningServer } from "../src/server.js";
import { clusterWith } from "./cluster.js";

/** The extender's public app over HTTPS, its serving certificate and client CA from a test CA. */
export interface TlsHarness {
  ca: TestCa;
  server: RunningServer;
  ctx: RouteContext;
  close(): Promise<void>;
}

export async function tlsExtender(access: Access, ca: TestCa): Promise<TlsHarness> {
  const store = clusterWith(["n1"], Date.now());
  store.applyPvc(pvc("default", "data", { className: "lvm", size: "1Gi", selectedNode: "n1" }));
  const ctx: RouteContext = {
    store,
    metrics: new ExtenderMetrics(store, { version: "tls", commit: "abc123" }),
    log: createLogger("nls-extender", "silent"),
    reservationTtlMs: 60_000,
    placement: "decide",
    maxBodyBytes: 1 << 20,
    writer: { annotate: async () => {} },
    pods: { inNamespace: async () => [pod("default", "web-0", ["data"])] },
    now: Date.now,
    notReady: () => undefined,
    notServing: () => undefined,
    build: { version: "tls", commit: "abc123" },
  };
  const serving = await ca.server("extender", ["localhost", "127.0.0.1"]);
  const server = await listen(createApp(ctx, access), 0, "127.0.0.1", {
    cert: readFileSync(serving.cert),
    key: readFileSync(serving.key),
    ca: readFileSync(ca.cert),
  });
  return { ca, server, ctx, close: () => server.close() };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Bytes of the request body written before the answer arrived. */
  sent: number;
}

/**
 * One HTTPS request to 127.0.0.1:`port`, trusting `serverCa`, with an optional client certificate
 * and headers. `declaredBytes` announces a body of that size but sends only its first KiB, then waits
 * for the answer: a server that reads bodies before refusing would never answer.
 */
export function httpsCall(
  port: number,
  serverCa: string,
  method: string,
  path: string,
  options: { client?: Issued; headers?: Record<string, string>; body?: string; declaredBytes?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        servername: "localhost",
        ca: readFileSync(serverCa),
        ...(options.client ? { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) } : {}),
        headers: {
          "content-type": "application/json",
          ...(options.declaredBytes ? { "content-length": String(options.declaredBytes) } : {}),
          ...options.headers,
        },
        agent: false,
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, sent }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (options.declaredBytes) {
      const chunk = Buffer.alloc(1024, 0x20);
      sent = chunk.length;
      req.write(chunk); // and never the rest
    } else {
      const body = options.body ?? "";
      sent = Buffer.byteLength(body);
      req.end(body);
    }
  });
}
