import test from "ava";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, contextNames, KubeconfigError } from "./load.js";

const kubeconfig = (contexts: Array<[string, string, string?]>, current?: string) =>
  [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [${contexts.map(([, server], i) => `{name: c${server.length}${i}, cluster: {server: "${server}"}}`).join(", ")}]`,
    "users: [{name: u, user: {token: t}}]",
    `contexts: [${contexts
      .map(
        ([name, server, ns], i) =>
          `{name: ${name}, context: {cluster: c${server.length}${i}, user: u${ns ? `, namespace: ${ns}` : ""}}}`,
      )
      .join(", ")}]`,
    current ? `current-context: ${current}` : "",
    "",
  ].join("\n");

async function files(t: { teardown(f: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), "kubectl-nls-kc-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const first = join(dir, "first");
  const second = join(dir, "second");
  // The first file sets no current context; the second's (prod) decides, and its "shared" loses to the first's.
  await writeFile(
    first,
    kubeconfig([
      ["shared", "https://first:6443"],
      ["other", "https://other:6443", "team"],
    ]),
  );
  await writeFile(
    second,
    kubeconfig(
      [
        ["prod", "https://prod:6443", "apps"],
        ["shared", "https://second:6443"],
      ],
      "prod",
    ),
  );
  return { dir, first, second };
}

test("KUBECONFIG with two files: merged as kubectl merges them; --context and -n on top", async (t) => {
  const f = await files(t);
  const env = { KUBECONFIG: `${f.first}:${f.second}`, HOME: f.dir };
  const current = connect({}, env);
  t.is(current.context, "prod");
  t.is(current.namespace, "apps");
  t.is(current.kubeConfig.getCurrentCluster()?.server, "https://prod:6443");
  const shared = connect({ context: "shared", namespace: "x" }, env);
  t.is(shared.kubeConfig.getCurrentCluster()?.server, "https://first:6443", "the first file to name it wins");
  t.is(shared.namespace, "x");
  t.deepEqual(contextNames({}, env), ["other", "prod", "shared"]);
});

test("--kubeconfig alone, else ~/.kube/config", async (t) => {
  const f = await files(t);
  t.is(connect({ kubeconfig: f.second }, { KUBECONFIG: f.first }).context, "prod");
  await mkdir(join(f.dir, ".kube"));
  await writeFile(join(f.dir, ".kube", "config"), kubeconfig([["home", "https://home:6443"]], "home"));
  t.is(connect({}, { HOME: f.dir }).kubeConfig.getCurrentCluster()?.server, "https://home:6443");
});

const errors: Array<[string, (dir: string) => { flags: Record<string, string>; env: NodeJS.ProcessEnv }, RegExp]> = [
  [
    "a --kubeconfig that does not exist",
    () => ({ flags: { kubeconfig: "/nope" }, env: {} }),
    /--kubeconfig \/nope: no such file/,
  ],
  [
    "no kubeconfig anywhere and no cluster",
    (dir) => ({ flags: {}, env: { HOME: dir } }),
    /no kubeconfig found .* pass --kubeconfig/,
  ],
  [
    "a --context the files do not name",
    (dir) => ({ flags: { context: "gone" }, env: { KUBECONFIG: join(dir, "second") } }),
    /context "gone" is not in the kubeconfig \(contexts: prod, shared\)/,
  ],
  ["no current context", (dir) => ({ flags: {}, env: { KUBECONFIG: join(dir, "first") } }), /no current-context/],
];
for (const [title, setup, message] of errors) {
  test(`connect fails clearly: ${title}`, async (t) => {
    const f = await files(t);
    const { flags, env } = setup(f.dir);
    const e = t.throws(() => connect(flags, env), { instanceOf: KubeconfigError });
    t.regex(e!.message, message);
  });
}
