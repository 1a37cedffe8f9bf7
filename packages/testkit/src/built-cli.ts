import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Running a daemon's built binary as a pod runs it, for the CLI tests of both daemons.
 */

/** The variables the daemons read; the machine's own values must not leak into a test. */
const DAEMON_VARIABLE = /^(NLS_|KUBERNETES_)|^(NODE_NAME|KUBECONFIG|POD_NAMESPACE)$/;

/** This process's environment without any daemon variable, plus `extra`. */
export function daemonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!DAEMON_VARIABLE.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Runs the built CLI `cli` to its end. */
export function runBuilt(cli: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: daemonEnv(env) });
}

/**
 * What `--version` of the built CLI `cli` must print, `<version> (commit <commit>)`, from the stamp
 * `pnpm build` wrote beside it; throws when the stamp's version is not the package's or its commit is
 * not a commit.
 */
export function stampedVersionLine(cli: string): string {
  const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as { version: string; commit: string };
  const stamp = read(join(dirname(cli), "build-info.json"));
  const pkg = read(join(dirname(cli), "..", "package.json"));
  if (stamp.version !== pkg.version) throw new Error(`stamped ${stamp.version}, package ${pkg.version}`);
  if (!/^([0-9a-f]{40}|unknown)$/.test(stamp.commit)) throw new Error(`stamped commit ${stamp.commit}`);
  return `${stamp.version} (commit ${stamp.commit})`;
}

/**
 * What `--help` fails to say about `flags` (flag, default or `undefined`, variable): an empty list when
 * each flag is listed with its `(default: …, env: …)`.
 */
export function helpProblems(
  help: string,
  flags: Array<[flag: string, def: string | undefined, env: string]>,
): string[] {
  const text = help.replace(/\s+/g, " ");
  const problems: string[] = [];
  for (const [flag, def, env] of flags) {
    const start = text.indexOf(`${flag} <`);
    if (start < 0) {
      problems.push(`${flag} is not in --help`);
      continue;
    }
    const entry = text.slice(start, text.indexOf(")", text.indexOf(`env: ${env}`, start)) + 1);
    if (!entry.includes(`env: ${env}`)) problems.push(`${flag} does not name ${env}: ${entry}`);
    if (def && !entry.includes(`default: ${def}`)) problems.push(`${flag} does not show default ${def}: ${entry}`);
  }
  return problems;
}

/**
 * A kubeconfig (YAML) for `server` with a bearer `token`, not verifying the server's certificate; its
 * cluster and context are called `name`.
 */
export function tokenKubeconfigYaml(server: string, token: string, name = "c"): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{name: ${name}, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
    `users: [{name: u, user: {token: "${token}"}}]`,
    `contexts: [{name: ${name}, context: {cluster: ${name}, user: u}}]`,
    `current-context: ${name}`,
    "",
  ].join("\n");
}

/** A kubeconfig file for an API server that refuses every connection: a daemon starts and keeps retrying. */
export function refusingKubeconfig(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "nls-cli-"));
  const path = join(dir, "kubeconfig");
  writeFileSync(path, tokenKubeconfigYaml("http://127.0.0.1:1", "t"));
  return { dir, path };
}

export interface RunningBuilt {
  child: ChildProcess;
  /** The `port` field of the log line that announced the start. */
  port: number;
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/**
 * Starts the built CLI (with Node's own flags `nodeArgs`) and waits for the JSON log line whose `msg` is
 * `started` (it carries `port`).
 */
export async function startBuilt(
  cli: string,
  args: string[],
  env: Record<string, string>,
  started: string,
  nodeArgs: string[] = [],
): Promise<RunningBuilt> {
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
    env: daemonEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let out = "";
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const announced = new RegExp(`"port":(\\d+).*"msg":"${started}"`);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = announced.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`exited early with ${code}: ${out}${err}`)));
  });
  return { child, port, exited, stdout: () => out, stderr: () => err };
}
