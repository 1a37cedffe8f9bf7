import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { containerCommand, podOf } from "../e2e/container-command.js";
import { find, kustomize, kustomizeWithComponent, repoRoot } from "./render.js";
import { hasKubectl, run, testWithTool } from "./tools.js";

const test = testWithTool(hasKubectl);

/** Newest modification time of the files below `dir`. */
async function newest(dir: string): Promise<number> {
  const files = await readdir(dir, { recursive: true, withFileTypes: true });
  const times = await Promise.all(
    files.filter((f) => f.isFile()).map(async (f) => (await stat(join(f.parentPath, f.name))).mtimeMs),
  );
  return Math.max(0, ...times);
}

/** The built CLI when it is newer than every source file (npm test builds first), else the source via tsx. */
async function entry(pkg: string): Promise<string[]> {
  const built = `${repoRoot}packages/${pkg}/dist/cli.js`;
  const fresh = existsSync(built) && (await stat(built)).mtimeMs >= (await newest(`${repoRoot}packages/${pkg}/src`));
  return fresh ? [built] : ["--import", "tsx", `${repoRoot}packages/${pkg}/src/cli.ts`];
}

/** Runs a daemon's CLI outside any cluster. */
const cli = async (pkg: string, args: string[], env: Record<string, string> = {}) => {
  const { KUBERNETES_SERVICE_HOST: _host, ...outside } = process.env;
  return run("node", [...(await entry(pkg)), ...args], {
    cwd: repoRoot,
    env: { ...outside, ...env },
    timeoutMs: 120_000,
  });
};

/**
 * A kubeconfig path that does not exist: a daemon given it parses every option and then stops at
 * loading it, so reaching that error proves the options were accepted, without a cluster.
 */
const NO_KUBECONFIG = "/nonexistent/nls-deploy-test/kubeconfig";

/** The flags the agent gets with components/agent-nsenter. */
async function nsenterArgs(): Promise<string[]> {
  const component = parse(await readFile(`${repoRoot}deploy/components/agent-nsenter/kustomization.yaml`, "utf8")) as {
    patches: Array<{ patch: string }>;
  };
  const ops = parse(component.patches[0]!.patch) as Array<{ path: string; value: unknown }>;
  return ops.filter((op) => op.path.endsWith("/args/-")).map((op) => String(op.value));
}

for (const [pkg, kind, name, component] of [
  ["agent", "DaemonSet", "nls-agent", undefined],
  ["extender", "Deployment", "nls-extender", undefined],
  ["extender", "Deployment", "nls-extender", "extender-tls"],
  ["extender", "Deployment", "nls-extender", "managed-resources-webhook"],
] as const) {
  // Until a daemon's CLI exists there is nothing to hold deploy/ against: say so rather than pass.
  const cliTest = existsSync(`${repoRoot}packages/${pkg}/src/cli.ts`) ? test : test.skip;
  const what = component ? `deploy/ with components/${component}` : "deploy/";
  cliTest(`${name} knows every flag and environment variable ${what} gives it, and accepts their values`, async (t) => {
    const objects = component ? await kustomizeWithComponent(component) : await kustomize();
    const pod = podOf(find(objects, kind, name) as never, `${name}-0`, "node-1");
    const c = pod.spec.containers[0]!;
    // What the kubelet passes: args with `$(VAR)` expanded, env with the downward API values.
    const { args: expanded, env } = containerCommand(pod, "10.88.0.1");
    const args = [...expanded, ...(pkg === "agent" ? await nsenterArgs() : [])];
    const help = await cli(pkg, ["--help"]);
    t.is(help.code, 0, help.stderr);
    const text = help.stdout.replace(/\s+/g, " ");
    for (const arg of args) {
      const flag = arg.split("=")[0]!;
      // A switch (`--leader-elect`) takes no value.
      t.true(text.includes(arg.includes("=") ? ` ${flag} <` : ` ${flag} `), `${name} --help lists ${flag}`);
    }
    // Each variable is the daemon's own, or one the kubelet expands into its args.
    for (const e of c.env ?? []) {
      if ((c.args ?? []).some((a) => a.includes(`$(${e.name})`))) continue;
      t.regex(text, new RegExp(`(env: |\\$)${e.name}\\b`), `${name} --help mentions ${e.name}`);
    }
    // With the pod's environment the daemon accepts every value and gets as far as loading its kubeconfig.
    const started = await cli(pkg, [...args, `--kubeconfig=${NO_KUBECONFIG}`], env);
    const output = started.stdout + started.stderr;
    t.true(output.includes(NO_KUBECONFIG), output);
    t.notRegex(output, /invalid|unknown option|required/i);
  });
}

test("a value a daemon rejects fails the check above (the check can fail)", async (t) => {
  for (const [pkg, arg, message] of [
    ["agent", "--interval=soon", /invalid duration "soon"/],
    ["extender", "--strategy=nope", /invalid strategy "nope"/],
  ] as const) {
    const parsed = await cli(pkg, [arg, `--kubeconfig=${NO_KUBECONFIG}`], { NODE_NAME: "node-1" });
    t.not(parsed.code, 0);
    t.regex(parsed.stderr, message);
    t.false((parsed.stdout + parsed.stderr).includes(NO_KUBECONFIG), "stopped before the kubeconfig");
  }
});
