import test from "ava";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import {
  currentClusterAndUser,
  inClusterKubeconfig,
  loadKubeconfig,
  SERVICE_ACCOUNT_DIR,
  type Kubeconfig,
} from "./kubeconfig.js";
import { kubeconfigFromFiles, loadKubeConfig } from "./client-node.js";
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
    const kc = withEnv(c.env, () => loadKubeconfig(c.flag));
    t.is(currentClusterAndUser(kc).cluster?.server, c.server);
    if (c.contexts)
      t.deepEqual(
        kc.contexts.map((x) => x.name),
        c.contexts,
      );
    // The extender's client-node KubeConfig is the same kubeconfig.
    const clientNode = withEnv(c.env, () => loadKubeConfig(c.flag));
    t.is(clientNode.getCurrentCluster()?.server, c.server);
    t.is(clientNode.getCurrentContext(), kc.currentContext);
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
    const err = t.throws(() => withEnv(c.env, () => loadKubeconfig(c.flag)), { instanceOf: StartupError });
    t.regex(err?.message ?? "", c.message);
    t.throws(() => withEnv(c.env, () => loadKubeConfig(c.flag)), { instanceOf: StartupError, message: err?.message });
  });
}

/** The fields client-node's `KubeConfig` holds after loading, to compare with the plain loader's. */
function asLoaded(kc: KubeConfig): Kubeconfig {
  return {
    clusters: kc.getClusters(),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  };
}

/** Every field the loader reads, relative paths among them (resolved against the file's directory). */
const everyField = join(dir, "every-field");
writeFileSync(
  everyField,
  [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: tls",
    "  cluster: {server: 'https://[fd00::1]:6443/', certificate-authority: certs/ca.crt, tls-server-name: api.internal}",
    "- name: data",
    "  cluster: {server: 'https://10.0.0.1', certificate-authority-data: Q0E=, insecure-skip-tls-verify: true, proxy-url: 'http://proxy:3128'}",
    "users:",
    "- name: cert",
    "  user: {client-certificate: cert.pem, client-key: /abs/key.pem, as: someone}",
    "- name: data",
    "  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ, token: abc}",
    "- name: basic",
    "  user: {username: u, password: p}",
    "- name: exec",
    "  user: {exec: {command: get-token, apiVersion: client.authentication.k8s.io/v1}}",
    "- name: nothing",
    "contexts:",
    "- name: tls",
    "  context: {cluster: tls, user: cert, namespace: ns}",
    "- name: data",
    "  context: {cluster: data, user: data}",
    "current-context: tls",
    "",
  ].join("\n"),
);

const agreements: Array<{ title: string; file: string }> = [
  { title: "every field, relative paths resolved against the file", file: everyField },
  { title: "one token file", file: a },
];
for (const c of agreements) {
  test(`the kubeconfig read is what client-node's KubeConfig.loadFromFile reads: ${c.title}`, (t) => {
    const clientNode = new KubeConfig();
    clientNode.loadFromFile(c.file);
    t.deepEqual(asLoaded(kubeconfigFromFiles([c.file], "test")), asLoaded(clientNode));
  });
}

test("in a pod: what client-node's loadFromCluster makes of the service account (IPv6 in brackets, http on 8080)", (t) => {
  const root = mkdtempSync(join(tmpdir(), "nls-sa-"));
  const sa = join(root, SERVICE_ACCOUNT_DIR);
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, "namespace"), "kube-system");
  for (const [host, port] of [
    ["10.0.0.1", "443"],
    ["fd00::1", "6443"],
    ["10.0.0.1", "8080"],
  ] as const) {
    const kc = withEnv({ KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port }, () => {
      const k = new KubeConfig();
      k.loadFromCluster(root);
      return k;
    });
    t.deepEqual(inClusterKubeconfig(host, port, sa), asLoaded(kc));
  }
  t.is(inClusterKubeconfig("fd00::1", "6443", sa).clusters[0]!.server, "https://[fd00::1]:6443");
  t.is(inClusterKubeconfig("10.0.0.1", "8080", sa).clusters[0]!.server, "http://10.0.0.1:8080");
  t.is(inClusterKubeconfig("10.0.0.1", "443", sa).contexts[0]!.namespace, "kube-system");
});
