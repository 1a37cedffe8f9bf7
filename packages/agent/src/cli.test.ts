import test from "ava";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { helpProblems, refusingKubeconfig, runBuilt, stampedVersionLine, startBuilt } from "@nls/testkit";

// The built binary, as a DaemonSet runs it (`pnpm build` precedes the tests in `npm test`).
const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");
const cli = (args: string[], env: Record<string, string> = {}) => runBuilt(CLI, args, env);

test("the CLI is built", (t) => {
  t.true(existsSync(CLI), `${CLI} is missing: run \`pnpm build\` first`);
});

test("--help documents every daemon flag with its default and env variable", (t) => {
  const r = cli(["--help"]);
  t.is(r.status, 0);
  const help = r.stdout.replace(/\s+/g, " ");
  t.regex(
    help,
    /--kubeconfig <path> kubeconfig file \(default: the files in \$KUBECONFIG, else the pod's service account\)/,
  );
  const expected: [string, string | undefined, string][] = [
    ["--node-name", undefined, "NODE_NAME"],
    ["--interval", "60s", "NLS_INTERVAL"],
    ["--lv-prefix", "local", "NLS_LV_PREFIX"],
    ["--devices", "/dev/sd*,/dev/vd*,/dev/xvd*,/dev/nvme*n*", "NLS_DEVICES"],
    ["--mount-root", "/mnt/open-local", "NLS_MOUNT_ROOT"],
    ["--metrics-addr", ":9101", "NLS_METRICS_ADDR"],
    ["--init-config", "open-local", "NLS_INIT_CONFIG"],
    ["--lease-namespace", "nls-node-lease", "NLS_LEASE_NAMESPACE"],
    ["--event-namespace", "kube-system", "POD_NAMESPACE"],
    ["--command-prefix", "none", "NLS_COMMAND_PREFIX"],
    ["--log-level", "info", "NLS_LOG_LEVEL"],
  ];
  t.deepEqual(helpProblems(help, expected), []);
  t.regex(help, /scan \[options\]/);
});

test("--version prints the version and the commit pnpm build stamped", (t) => {
  const r = cli(["--version"]);
  t.is(r.status, 0);
  t.is(r.stdout.trim(), stampedVersionLine(CLI));
});

test("the daemon refuses to start without a node name", (t) => {
  const r = cli([]);
  t.is(r.status, 2);
  t.regex(r.stderr, /--node-name \(or NODE_NAME\) is required/);
});

const unknown: Array<[string, string[], RegExp]> = [
  ["a typo of a command", ["sacn"], /^error: unknown command: sacn \(commands: scan; see nls-agent --help\)\n$/],
  ["a word after the daemon's options", ["--node-name", "n1", "run"], /^error: unknown command: run \(commands: scan/],
  ["an unknown option", ["--node-nmae", "n1"], /^error: unknown option '--node-nmae'/],
  ["an unknown option of scan", ["scan", "--devcies", "sd*"], /^error: unknown option '--devcies'/],
];
for (const [title, args, stderr] of unknown) {
  test(`a usage error exits 2 and starts nothing: ${title}`, (t) => {
    const r = cli(args);
    t.is(r.status, 2);
    t.regex(r.stderr, stderr);
    t.is(r.stdout, "");
  });
}

test("a bad flag value is a usage error naming the flag (exit 2)", (t) => {
  const r = cli(["--node-name", "n1", "--interval", "soon"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /option '--interval <duration>' value 'soon' is invalid: invalid duration "soon"/);
  const env = cli([], { NODE_NAME: "n1", NLS_METRICS_ADDR: "9101" });
  t.is(env.status, 2);
  t.regex(
    env.stderr,
    /option '--metrics-addr <addr>' value '9101' from env 'NLS_METRICS_ADDR' is invalid: invalid listen address/,
  );
  const level = cli(["--node-name", "n1", "--log-level", "loud"]);
  t.is(level.status, 2);
  t.regex(level.stderr, /invalid log level "loud"/);
});

const kubeconfigFailures: Array<[string, string[], Record<string, string>, RegExp]> = [
  [
    "outside a pod without a kubeconfig",
    [],
    {},
    /^nls-agent: error: no kubeconfig: give --kubeconfig or KUBECONFIG, or run in a pod \(KUBERNETES_SERVICE_HOST is unset\)\n$/,
  ],
  [
    "with a --kubeconfig that does not exist",
    ["--kubeconfig", "/nonexistent/kubeconfig"],
    {},
    /^nls-agent: error: cannot load kubeconfig --kubeconfig \/nonexistent\/kubeconfig: ENOENT[^\n]*\n$/,
  ],
  [
    "with a KUBECONFIG none of whose files exists",
    [],
    { KUBECONFIG: "/nonexistent/a:/nonexistent/b" },
    /^nls-agent: error: cannot load kubeconfig KUBECONFIG=\/nonexistent\/a:\/nonexistent\/b: none of its files exists\n$/,
  ],
];
for (const [title, args, env, stderr] of kubeconfigFailures) {
  test(`the daemon stops at once, one line on stderr and exit 1, ${title}`, (t) => {
    const r = cli(["--node-name", "n1", "--metrics-addr", "127.0.0.1:0", ...args], env);
    t.is(r.status, 1);
    t.regex(r.stderr, stderr);
    t.is(r.stdout, "");
  });
}

test("scan --spec with a typo names the field, exits 2 and scans nothing", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "nls-agent-spec-"));
  const spec = join(dir, "spec.yaml");
  writeFileSync(spec, "listconfig:\n  vgs: {include: [pool]}\n");
  const r = cli(["scan", "--spec", spec, "--command-prefix", "/nonexistent/never-run"]);
  t.is(r.status, 2);
  t.is(
    r.stderr,
    `error: --spec ${spec}: listconfig: unknown field (known: nodeName, listConfig, resourceToBeInited, spdkConfig)\n`,
  );
  t.is(r.stdout, "");
});

test("the daemon's environment does not break `scan`", (t) => {
  const r = cli(["scan", "--help"], { NODE_NAME: "Not_A_Node", NLS_INTERVAL: "soon", NLS_LOG_LEVEL: "loud" });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /Usage: nls-agent scan/);
});

test("SIGTERM stops the daemon cleanly with exit code 0", async (t) => {
  // An API server that refuses connections: the agent keeps running, logging failed reconciles.
  const { dir, path } = refusingKubeconfig();
  const daemon = await startBuilt(
    CLI,
    ["--metrics-addr", "127.0.0.1:0", "--log-level", "debug"],
    // KUBECONFIG is a list: a file that does not exist is skipped, as kubectl skips it.
    { NODE_NAME: "node-under-test", KUBECONFIG: `${join(dir, "absent")}:${path}` },
    "nls-agent started",
  );
  t.is((await fetch(`http://127.0.0.1:${daemon.port}/healthz`)).status, 200);
  // Nothing reconciled against an unreachable API server, so not ready.
  t.is((await fetch(`http://127.0.0.1:${daemon.port}/readyz`)).status, 503);

  daemon.child.kill("SIGTERM");
  t.is(await daemon.exited, 0);
  const lines = daemon.stdout().trim().split("\n");
  for (const line of lines) t.notThrows(() => JSON.parse(line), `not a JSON log line: ${line}`);
  t.true(lines.some((l) => JSON.parse(l).msg === "nls-agent stopped"));
});
