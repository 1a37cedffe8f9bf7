import test from "ava";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { hasOpenssl, makeTestCa } from "@nls/testkit";
import { apiEndpoint } from "./api-endpoint.js";
import { HttpKube } from "./http-kube.js";

/**
 * TLS as a pod meets it: the API server's certificate checked against the kubeconfig's CA (a file, as
 * the service account's `ca.crt`), and a client certificate presented when the kubeconfig has one.
 */

const withOpenssl = (await hasOpenssl()) ? test : test.skip;

withOpenssl("HTTPS: the server is verified against the CA; a client certificate is presented", async (t) => {
  const ca = await makeTestCa("nls-agent-tls-ca");
  const other = await makeTestCa("nls-agent-other-ca");
  t.teardown(async () => {
    await ca.remove();
    await other.remove();
  });
  const serving = await ca.server("api", ["127.0.0.1"]);
  const client = await ca.client("agent", "system:node:n1", ["system:nodes"]);
  const peers: string[] = [];
  const server = createServer(
    {
      cert: readFileSync(serving.cert),
      key: readFileSync(serving.key),
      ca: readFileSync(ca.cert),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      peers.push(String(peer.subject?.CN ?? "none"));
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ metadata: { name: "n1", uid: "u1" } }));
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = (caFile: string, user: Record<string, string>) => ({
    clusters: [{ name: "c", server: url, caFile, skipTLSVerify: false }],
    users: [{ name: "u", ...user }],
    contexts: [{ name: "c", cluster: "c", user: "u" }],
    currentContext: "c",
  });

  const withCert = new HttpKube(apiEndpoint(kubeconfig(ca.cert, { certFile: client.cert, keyFile: client.key })));
  t.deepEqual(await withCert.getNode("n1"), { name: "n1", uid: "u1", labels: {} });
  const withToken = new HttpKube(apiEndpoint(kubeconfig(ca.cert, { token: "t" })));
  await withToken.getNode("n1");
  t.deepEqual(peers, ["system:node:n1", "none"]);

  const wrongCa = new HttpKube(apiEndpoint(kubeconfig(other.cert, { token: "t" })));
  const err = await t.throwsAsync(wrongCa.getNode("n1"));
  t.regex(err?.message ?? "", /^get node n1: .*(self[- ]signed|unable to verify|certificate)/i);
  t.is(peers.length, 2, "nothing reached the server without a verified certificate");
});
