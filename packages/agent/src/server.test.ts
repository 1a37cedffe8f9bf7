import test from "ava";
import { createLogger, parseListenAddress } from "@nls/daemon";
import { AgentMetrics } from "./metrics.js";
import { startServer } from "./server.js";

test("healthz, readyz and metrics over real HTTP", async (t) => {
  let ready = false;
  const metrics = new AgentMetrics();
  metrics.countWrite("nls_status", "ok");
  const server = await startServer(parseListenAddress("127.0.0.1:0"), {
    isReady: () => ready,
    metrics: () => metrics.text(),
    metricsContentType: metrics.contentType,
    log: createLogger("nls-agent", "silent"),
  });
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${server.port}`;

  const health = await fetch(`${base}/healthz`);
  t.is(health.status, 200);
  t.is(await health.text(), "ok\n");

  t.is((await fetch(`${base}/readyz`)).status, 503);
  ready = true;
  t.is((await fetch(`${base}/readyz`)).status, 200);

  const m = await fetch(`${base}/metrics`);
  t.is(m.status, 200);
  t.regex(m.headers.get("content-type") ?? "", /^text\/plain/);
  t.regex(await m.text(), /^nls_agent_api_writes_total\{kind="nls_status",result="ok"\} 1$/m);

  t.is((await fetch(`${base}/nope`)).status, 404);
  t.is((await fetch(`${base}/healthz`, { method: "POST" })).status, 405);
});

test("a failing metrics render answers 500 and the server keeps serving", async (t) => {
  const server = await startServer(parseListenAddress("127.0.0.1:0"), {
    isReady: () => true,
    metrics: () => Promise.reject(new Error("boom")),
    metricsContentType: "text/plain",
    log: createLogger("nls-agent", "silent"),
  });
  t.teardown(() => server.close());
  t.is((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status, 500);
  t.is((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);
});

test("listening on a taken port is a clear error, not a crash", async (t) => {
  const deps = {
    isReady: () => true,
    metrics: async () => "",
    metricsContentType: "text/plain",
    log: createLogger("nls-agent", "silent"),
  };
  const first = await startServer(parseListenAddress("127.0.0.1:0"), deps);
  t.teardown(() => first.close());
  await t.throwsAsync(startServer({ host: "127.0.0.1", port: first.port }, deps), { code: "EADDRINUSE" } as never);
});
