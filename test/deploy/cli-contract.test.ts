import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { find, kustomize, repoRoot, type KubeObject } from "./render.js";
import { hasKubectl, run, testWithTool } from "./tools.js";

const test = testWithTool(hasKubectl);

/** Runs a daemon's CLI from source (no build needed). */
const cli = (pkg: string, args: string[]) =>
  run("node", ["--import", "tsx", `${repoRoot}packages/${pkg}/src/cli.ts`, ...args], { cwd: repoRoot });

interface Container {
  args?: string[];
  env?: Array<{ name: string }>;
}

const container = (obj: KubeObject): Container =>
  (obj as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec.containers[0]!;

/** The args kubelet passes: `$(VAR)` expanded from the container's env (here, the pod's namespace). */
const expand = (args: string[]) => args.map((a) => a.replace(/\$\(POD_NAMESPACE\)/g, "kube-system"));

/** The flags the agent gets with components/agent-nsenter. */
async function nsenterArgs(): Promise<string[]> {
  const component = parse(await readFile(`${repoRoot}deploy/components/agent-nsenter/kustomization.yaml`, "utf8")) as {
    patches: Array<{ patch: string }>;
  };
  const ops = parse(component.patches[0]!.patch) as Array<{ path: string; value: unknown }>;
  return ops.filter((op) => op.path.endsWith("/args/-")).map((op) => String(op.value));
}

for (const [pkg, kind, name] of [
  ["agent", "DaemonSet", "nls-agent"],
  ["extender", "Deployment", "nls-extender"],
] as const) {
  // Until a daemon's CLI exists there is nothing to hold deploy/ against: say so rather than pass.
  const cliTest = existsSync(`${repoRoot}packages/${pkg}/src/cli.ts`) ? test : test.skip;
  cliTest(`${name} knows every flag and environment variable deploy/ gives it, and accepts their values`, async (t) => {
    const c = container(find(await kustomize(), kind, name));
    const args = expand([...(c.args ?? []), ...(pkg === "agent" ? await nsenterArgs() : [])]);
    const help = await cli(pkg, ["--help"]);
    t.is(help.code, 0, help.stderr);
    const text = help.stdout.replace(/\s+/g, " ");
    for (const arg of args) {
      const flag = arg.split("=")[0]!;
      t.true(text.includes(` ${flag} <`), `${name} --help lists ${flag}`);
    }
    for (const env of c.env ?? []) {
      t.regex(text, new RegExp(`(env: |\\$)${env.name}\\b`), `${name} --help mentions ${env.name}`);
    }
    // Option values are parsed as they are read, before --help is acted on: a bad one exits non-zero.
    const parsed = await cli(pkg, [...args, "--help"]);
    t.is(parsed.code, 0, `${args.join(" ")}: ${parsed.stderr}`);
  });
}

test("a value the agent rejects fails the check above (the check can fail)", async (t) => {
  const parsed = await cli("agent", ["--interval=soon", "--help"]);
  t.not(parsed.code, 0);
  t.regex(parsed.stderr, /invalid duration "soon"/);
});
