import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import { requests, sendFor, type Send } from "./one-connection.js";

test("sendFor: one connection, bodies in turn, failures counted by status, the first answer kept", async (t) => {
  const seen: string[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push(body);
      const fail = seen.length % 3 === 0;
      res.writeHead(fail ? 500 : 200, { "content-type": "application/json" });
      res.end(fail ? "{}" : `{"n":${seen.length}}`);
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;
  const sent = await sendFor(`http://127.0.0.1:${port}`, requests("/x", ["a", "b"]), { requests: 7 });
  t.is(sent.latenciesMs.length, 7);
  t.deepEqual(seen, ["a", "b", "a", "b", "a", "b", "a"]);
  t.is(connections, 1);
  t.deepEqual(sent.failures, { 500: 2 });
  t.is(sent.firstAnswer, '{"n":1}');
});

test("sendFor: an exchange of two requests, the second built from the first's answer, is one latency", async (t) => {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      paths.push(`${req.url} ${body}`);
      res.end(req.url === "/filter" ? "b" : "scored");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;
  const pair = async (send: Send) => send("/prioritize", `after ${await send("/filter", "a")}`);
  const sent = await sendFor(`http://127.0.0.1:${port}`, [pair], { requests: 2 });
  t.is(sent.latenciesMs.length, 2);
  t.deepEqual(paths, ["/filter a", "/prioritize after b", "/filter a", "/prioritize after b"]);
  t.is(sent.firstAnswer, "b");
});
