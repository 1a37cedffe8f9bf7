import test from "ava";
import { X509Certificate } from "node:crypto";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { createServer, type AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  hasOpenssl,
  helpProblems,
  makeTestCa,
  refusingKubeconfig,
  runBuilt,
  stampedVersionLine,
  startBuilt,
} from "@nls/testkit";

// The built binary, as the Deployment runs it (`pnpm build` precedes the tests in `npm test`).
const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const cli = (args: string[], env: Record<string, string> = {}) => runBuilt(CLI, args, env);
// The webhook test issues certificates with openssl (a skip without it; a failure in CI).
const openssl = await hasOpenssl();
if (!openssl && process.env.NLS_REQUIRE_REAL_TOOLS === "1") throw new Error("openssl missing in CI");

test("the CLI is built", (t) => {
  t.true(existsSync(CLI), `${CLI} is missing: run \`pnpm build\` first`);
});

test("--version prints the version and the commit pnpm build stamped", (t) => {
  const r = cli(["--version"]);
  t.is(r.status, 0);
  t.is(r.stdout.trim(), stampedVersionLine(CLI));
});

test("--help documents every flag with its default and env variable", (t) => {
  const r = cli(["--help"]);
  t.is(r.status, 0);
  const help = r.stdout.replace(/\s+/g, " ");
  const expected: Array<[string, string | undefined, string]> = [
    ["--port", "23000", "NLS_PORT"],
    ["--strategy", "binpack", "NLS_STRATEGY"],
    ["--placement", "decide", "NLS_PLACEMENT"],
    ["--reservation-ttl", "60s", "NLS_RESERVATION_TTL"],
    ["--max-body-bytes", "64Mi", "NLS_MAX_BODY_BYTES"],
    ["--tls-cert-file", undefined, "NLS_TLS_CERT_FILE"],
    ["--tls-private-key-file", undefined, "NLS_TLS_PRIVATE_KEY_FILE"],
    ["--client-ca-file", undefined, "NLS_CLIENT_CA_FILE"],
    ["--authentication-token-webhook", "false", "NLS_AUTHENTICATION_TOKEN_WEBHOOK"],
    ["--authorization-mode", "AlwaysAllow", "NLS_AUTHORIZATION_MODE"],
    ["--reserve-port", undefined, "NLS_RESERVE_PORT"],
    ["--webhook-port", undefined, "NLS_WEBHOOK_PORT"],
    ["--webhook-certificate", "secret", "NLS_WEBHOOK_CERTIFICATE"],
    ["--webhook-secret", "nls-extender-webhook-tls", "NLS_WEBHOOK_SECRET"],
    ["--webhook-configuration", "nls-local-storage-request", "NLS_WEBHOOK_CONFIGURATION"],
    ["--webhook-service", "nls-extender-webhook", "NLS_WEBHOOK_SERVICE"],
    ["--webhook-ca-lifetime", "8760h", "NLS_WEBHOOK_CA_LIFETIME"],
    ["--webhook-certificate-lifetime", "2160h", "NLS_WEBHOOK_CERTIFICATE_LIFETIME"],
    ["--webhook-tls-cert-file", undefined, "NLS_WEBHOOK_TLS_CERT_FILE"],
    ["--webhook-tls-private-key-file", undefined, "NLS_WEBHOOK_TLS_PRIVATE_KEY_FILE"],
    ["--debug-address", "127.0.0.1:23001", "NLS_DEBUG_ADDRESS"],
    ["--lease-namespace", "nls-node-lease", "NLS_LEASE_NAMESPACE"],
    ["--agent-lease", "required", "NLS_AGENT_LEASE"],
    ["--log-level", "info", "NLS_LOG_LEVEL"],
  ];
  t.deepEqual(helpProblems(help, expected), []);
  t.regex(
    help,
    /--kubeconfig <path> kubeconfig file \(default: the files in \$KUBECONFIG, else the pod's service account\)/,
  );
});

const usage: Array<[string, string[], Record<string, string>, RegExp]> = [
  [
    "a stray argument",
    ["serve"],
    {},
    /^error: unexpected argument: serve \(nls-extender takes options only; see nls-extender --help\)\n$/,
  ],
  ["an unknown option", ["--strategyy", "spread"], {}, /^error: unknown option '--strategyy'/],
  [
    "a bad value",
    ["--strategy", "random"],
    {},
    /^error: option '--strategy <name>' value 'random' is invalid: invalid strategy "random"/,
  ],
  [
    "a bad value from the environment",
    [],
    { NLS_PORT: "http" },
    /^error: option '--port <port>' value 'http' from env 'NLS_PORT' is invalid: invalid port "http"/,
  ],
  [
    "half of TLS",
    ["--tls-cert-file", "/x.pem"],
    {},
    /^error: --tls-cert-file and --tls-private-key-file go together\n$/,
  ],
];
for (const [title, args, env, stderr] of usage) {
  test(`a usage error exits 2 before anything starts: ${title}`, (t) => {
    const r = cli(args, env);
    t.is(r.status, 2);
    t.regex(r.stderr, stderr);
    t.is(r.stdout, "");
  });
}

const startup: Array<[string, string[], Record<string, string>, RegExp]> = [
  [
    "outside a pod without a kubeconfig (no localhost:8080 guess)",
    [],
    {},
    /^nls-extender: error: no kubeconfig: give --kubeconfig or KUBECONFIG, or run in a pod \(KUBERNETES_SERVICE_HOST is unset\)\n$/,
  ],
  [
    "a --kubeconfig that does not exist",
    ["--kubeconfig", "/nonexistent/kubeconfig"],
    {},
    /^nls-extender: error: cannot load kubeconfig --kubeconfig \/nonexistent\/kubeconfig: ENOENT[^\n]*\n$/,
  ],
];
for (const [title, args, env, stderr] of startup) {
  test(`the extender stops at once, one line on stderr and exit 1: ${title}`, (t) => {
    const r = cli(args, env);
    t.is(r.status, 1);
    t.regex(r.stderr, stderr);
    t.is(r.stdout, "");
  });
}

test("SIGTERM stops the extender cleanly with exit code 0; every log line is JSON", async (t) => {
  // An API server that refuses connections: the informers keep retrying, so the extender never gets ready.
  const { dir, path } = refusingKubeconfig();
  const extender = await startBuilt(
    CLI,
    ["--port", String(await freePort()), "--debug-address", `127.0.0.1:${await freePort()}`, "--log-level", "debug"],
    { KUBECONFIG: `${join(dir, "absent")}:${path}` },
    "nls-extender listening",
  );
  t.is((await fetch(`http://127.0.0.1:${extender.port}/healthz`)).status, 200);
  t.is((await fetch(`http://127.0.0.1:${extender.port}/readyz`)).status, 503);

  extender.child.kill("SIGTERM");
  t.is(await extender.exited, 0);
  t.is(extender.stderr(), "");
  const lines = extender.stdout().trim().split("\n");
  for (const line of lines) t.notThrows(() => JSON.parse(line), `not a JSON log line: ${line}`);
  const entries = lines.map((l) => JSON.parse(l) as { msg: string; err?: { message?: unknown; stack?: unknown } });
  const withErr = entries.filter((x) => x.err !== undefined);
  t.true(withErr.length > 0, "the refused connections are logged with err");
  for (const e of withErr) {
    t.is(typeof e.err?.message, "string", `err is an object with a message: ${JSON.stringify(e)}`);
    t.is(typeof e.err?.stack, "string", `err is an object with a stack: ${JSON.stringify(e)}`);
  }
  t.true(entries.some((e) => e.msg === "nls-extender stopped"));
});

/** POSTs over HTTPS trusting only `ca`; resolves with the status, the body and the served certificate's serial. */
function postTls(port: number, path: string, body: string, ca: string) {
  return new Promise<{ status: number; body: string; serial: string }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        ca: readFileSync(ca),
        agent: false,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => {
          const peer = (res.socket as import("node:tls").TLSSocket).getPeerCertificate();
          resolve({ status: res.statusCode ?? 0, body: text, serial: peer.serialNumber });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

(openssl ? test : test.skip)(
  "--webhook-port with --webhook-certificate=files serves the webhook over HTTPS, marks a pod its blind caches cannot judge, and serves a renewed certificate",
  async (t) => {
    const ca = await makeTestCa("webhook-cli-ca");
    t.teardown(() => ca.remove());
    const [first, second] = [await ca.server("first", ["127.0.0.1"]), await ca.server("second", ["127.0.0.1"])];
    // The paths a Secret volume keeps stable.
    const [certFile, keyFile] = [join(ca.dir, "tls.crt"), join(ca.dir, "tls.key")];
    copyFileSync(first.cert, certFile);
    copyFileSync(first.key, keyFile);
    const { dir, path } = refusingKubeconfig();
    const webhookPort = await freePort();
    const extender = await startBuilt(
      CLI,
      [
        "--port",
        String(await freePort()),
        "--debug-address",
        `127.0.0.1:${await freePort()}`,
        "--webhook-port",
        String(webhookPort),
        "--webhook-certificate=files",
        "--webhook-tls-cert-file",
        certFile,
        "--webhook-tls-private-key-file",
        keyFile,
      ],
      { KUBECONFIG: `${join(dir, "absent")}:${path}` },
      "nls-extender listening",
    );
    t.teardown(() => void extender.child.kill("SIGKILL"));
    const review = JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "u1",
        kind: { group: "", version: "v1", kind: "Pod" },
        namespace: "app",
        operation: "CREATE",
        object: {
          spec: { containers: [{ name: "c" }], volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }] },
        },
      },
    });
    const serial = (pem: string) => new X509Certificate(readFileSync(pem)).serialNumber;
    // The API server is unreachable: no cache ever syncs, and a claim not seen counts as local.
    const answer = await postTls(webhookPort, "/admission/local-storage", review, ca.cert);
    t.is(answer.status, 200);
    t.is(answer.serial, serial(first.cert));
    const response = (JSON.parse(answer.body) as { response: { allowed: boolean; patch: string } }).response;
    t.true(response.allowed);
    t.deepEqual(JSON.parse(Buffer.from(response.patch, "base64").toString()), [
      {
        op: "add",
        path: "/spec/containers/0/resources",
        value: {
          requests: { "nls.csi.aliyun.com/local-storage": "1" },
          limits: { "nls.csi.aliyun.com/local-storage": "1" },
        },
      },
    ]);

    // A renewed Secret: new connections get the new certificate once the files are read again.
    copyFileSync(second.key, keyFile);
    copyFileSync(second.cert, certFile);
    const deadline = Date.now() + 30_000;
    let served = answer.serial;
    while (served !== serial(second.cert) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      served = (await postTls(webhookPort, "/admission/local-storage", review, ca.cert)).serial;
    }
    t.is(served, serial(second.cert));
  },
);

test("--webhook-port with certificate files that do not load stops the extender at once, exit 1", (t) => {
  const { dir, path } = refusingKubeconfig();
  const r = cli(
    [
      "--webhook-port",
      "23443",
      "--webhook-certificate=files",
      "--webhook-tls-cert-file",
      "/nonexistent/tls.crt",
      "--webhook-tls-private-key-file",
      "/nonexistent/tls.key",
    ],
    { KUBECONFIG: `${join(dir, "absent")}:${path}` },
  );
  t.is(r.status, 1);
  t.regex(r.stderr, /cannot read the TLS certificate, key or client CA: ENOENT/);
});
