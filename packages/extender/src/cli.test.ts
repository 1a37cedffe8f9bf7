import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The built binary, as the Deployment runs it (`pnpm build` precedes the tests in `npm test`).
const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");

/** Env without anything the extender reads, so the machine's own settings cannot leak into a test. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("NLS_") && !k.startsWith("KUBERNETES_") && !["KUBECONFIG", "POD_NAMESPACE"].includes(k))
      env[k] = v;
  }
  return { ...env, ...extra };
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: cleanEnv(env) });

test("the CLI is built", (t) => {
  t.true(existsSync(CLI), `${CLI} is missing: run \`pnpm build\` first`);
});

test("--help documents every flag with its default and env variable", (t) => {
  const r = cli(["--help"]);
  t.is(r.status, 0);
  const help = r.stdout.replace(/\s+/g, " ");
  const expected: Array<[string, string | undefined, string]> = [
    ["--port", "23000", "NLS_PORT"],
    ["--strategy", "binpack", "NLS_STRATEGY"],
    ["--reservation-ttl", "60s", "NLS_RESERVATION_TTL"],
    ["--max-body-bytes", "10Mi", "NLS_MAX_BODY_BYTES"],
    ["--tls-cert-file", undefined, "NLS_TLS_CERT_FILE"],
    ["--tls-private-key-file", undefined, "NLS_TLS_PRIVATE_KEY_FILE"],
    ["--lease-namespace", undefined, "NLS_LEASE_NAMESPACE"],
    ["--agent-lease", "required", "NLS_AGENT_LEASE"],
    ["--log-level", "info", "NLS_LOG_LEVEL"],
  ];
  for (const [flag, def, env] of expected) {
    const start = help.indexOf(`${flag} <`);
    t.true(start >= 0, `${flag} is not in --help`);
    const entry = help.slice(start, help.indexOf(")", help.indexOf(`env: ${env}`, start)) + 1);
    t.true(entry.includes(`env: ${env}`), `${flag} does not name ${env}: ${entry}`);
    if (def) t.true(entry.includes(`default: ${def}`), `${flag} does not show default ${def}: ${entry}`);
  }
  t.regex(
    help,
    /--kubeconfig <path> kubeconfig file \(default: the files in \$KUBECONFIG, else the pod's service account\)/,
  );
  t.regex(help, /\(default: \$POD_NAMESPACE, else kube-system\)/);
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
  const dir = mkdtempSync(join(tmpdir(), "nls-extender-cli-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]",
      "users: [{name: u, user: {token: t}}]",
      "contexts: [{name: c, context: {cluster: c, user: u}}]",
      "current-context: c",
    ].join("\n"),
  );
  const child = spawn(process.execPath, [CLI, "--port", String(await freePort()), "--log-level", "debug"], {
    env: cleanEnv({ KUBECONFIG: `${join(dir, "absent")}:${kubeconfig}` }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let out = "";
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"port":(\d+).*"msg":"nls-extender listening"/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`exited early with ${code}: ${out}${err}`)));
  });
  t.is((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  t.is((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 503);

  child.kill("SIGTERM");
  t.is(await exited, 0);
  t.is(err, "");
  const lines = out.trim().split("\n");
  for (const line of lines) t.notThrows(() => JSON.parse(line), `not a JSON log line: ${line}`);
  const entries = lines.map((l) => JSON.parse(l) as { msg: string; err?: unknown });
  const withErr = entries.filter((x) => x.err !== undefined);
  t.true(withErr.length > 0, "the refused connections are logged with err");
  for (const e of withErr) {
    t.like(
      e.err,
      { message: String((e.err as { message: string }).message) },
      `err is an object: ${JSON.stringify(e)}`,
    );
    t.is(typeof (e.err as { stack?: unknown }).stack, "string");
  }
  t.true(entries.some((e) => e.msg === "nls-extender stopped"));
});
