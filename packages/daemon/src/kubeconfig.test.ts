import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadKubeConfig } from "./kubeconfig.js";
import { StartupError } from "./program.js";

const dir = mkdtempSync(join(tmpdir(), "nls-kubeconfig-"));

/** A kubeconfig file with one cluster, user and context per name; `current` sets current-context. */
function kubeconfig(file: string, names: Array<[name: string, server: string]>, current?: string): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: names.map(([name, server]) => ({ name, cluster: { server } })),
      users: names.map(([name]) => ({ name, user: { token: `token-${name}` } })),
      contexts: names.map(([name]) => ({ name, context: { cluster: name, user: name } })),
      ...(current ? { "current-context": current } : {}),
    }),
  );
  return path;
}

const a = kubeconfig("a", [["a", "https://a.example:6443"]], "a");
const b = kubeconfig("b", [["b", "https://b.example:6443"]], "b");
const bWithoutCurrent = kubeconfig("b-no-current", [["b", "https://b.example:6443"]]);
const aElsewhere = kubeconfig("a-elsewhere", [["a", "https://elsewhere.example:6443"]], "a");
const noCurrent = kubeconfig("no-current", [["a", "https://a.example:6443"]]);
const malformed = join(dir, "malformed");
writeFileSync(malformed, "clusters: [\n  - {");
const missing = join(dir, "missing");

const ENV_KEYS = ["KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"] as const;

/** Runs `fn` with exactly `env` of the variables the loader reads (synchronously, so tests cannot interleave). */
function withEnv<T>(env: Partial<Record<(typeof ENV_KEYS)[number], string>>, fn: () => T): T {
  const saved = ENV_KEYS.map((k) => [k, process.env[k]] as const);
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const loads: Array<{ title: string; flag?: string; env: Record<string, string>; server: string; contexts?: string[] }> =
  [
    { title: "--kubeconfig", flag: a, env: {}, server: "https://a.example:6443" },
    {
      title: "--kubeconfig wins over KUBECONFIG and the pod",
      flag: a,
      env: { KUBECONFIG: b, KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" },
      server: "https://a.example:6443",
    },
    { title: "KUBECONFIG with one file", env: { KUBECONFIG: b }, server: "https://b.example:6443" },
    {
      title: "KUBECONFIG with several files: merged, the first current-context wins",
      env: { KUBECONFIG: `${a}:${b}` },
      server: "https://a.example:6443",
      contexts: ["a", "b"],
    },
    {
      title: "KUBECONFIG: a later file's current-context when the first has none",
      env: { KUBECONFIG: `${bWithoutCurrent}:${a}` },
      server: "https://a.example:6443",
      contexts: ["b", "a"],
    },
    {
      title: "KUBECONFIG: for a name in two files the first wins",
      env: { KUBECONFIG: `${aElsewhere}:${a}` },
      server: "https://elsewhere.example:6443",
      contexts: ["a"],
    },
    {
      title: "KUBECONFIG: missing files and empty entries are skipped",
      env: { KUBECONFIG: `${missing}::${b}` },
      server: "https://b.example:6443",
    },
    {
      title: "KUBECONFIG wins over the pod",
      env: { KUBECONFIG: b, KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" },
      server: "https://b.example:6443",
    },
    {
      title: "in a pod: the service account",
      env: { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" },
      server: "https://10.0.0.1:443",
    },
  ];
for (const c of loads) {
  test(`loadKubeConfig: ${c.title}`, (t) => {
    const kc = withEnv(c.env, () => loadKubeConfig(c.flag));
    t.is(kc.getCurrentCluster()?.server, c.server);
    if (c.contexts)
      t.deepEqual(
        kc.getContexts().map((x) => x.name),
        c.contexts,
      );
  });
}

const failures: Array<{ title: string; flag?: string; env: Record<string, string>; message: RegExp }> = [
  {
    title: "nothing to go on (no localhost:8080 guess)",
    env: {},
    message: /^no kubeconfig: give --kubeconfig or KUBECONFIG, or run in a pod \(KUBERNETES_SERVICE_HOST is unset\)$/,
  },
  { title: "a pod without its port", env: { KUBERNETES_SERVICE_HOST: "10.0.0.1" }, message: /^no kubeconfig/ },
  {
    title: "--kubeconfig that does not exist",
    flag: missing,
    env: {},
    message: new RegExp(`^cannot load kubeconfig --kubeconfig ${missing}: ENOENT`),
  },
  {
    title: "KUBECONFIG with no file that exists",
    env: { KUBECONFIG: `${missing}:${missing}2` },
    message: /^cannot load kubeconfig KUBECONFIG=.*: none of its files exists$/,
  },
  {
    title: "a file that is not a kubeconfig",
    flag: malformed,
    env: {},
    message: new RegExp(`^cannot load kubeconfig --kubeconfig ${malformed}: `),
  },
  {
    title: "the bad one of several files is named",
    env: { KUBECONFIG: `${a}:${malformed}` },
    message: new RegExp(`^cannot load kubeconfig KUBECONFIG=.* \\(${malformed}\\): `),
  },
  { title: "no current-context", flag: noCurrent, env: {}, message: /it sets no current-context$/ },
];
for (const c of failures) {
  test(`loadKubeConfig fails at once: ${c.title}`, (t) => {
    const err = t.throws(() => withEnv(c.env, () => loadKubeConfig(c.flag)), { instanceOf: StartupError });
    t.regex(err?.message ?? "", c.message);
  });
}
