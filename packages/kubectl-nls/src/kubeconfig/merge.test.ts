import test from "ava";
import type { Cluster, Context, User } from "@kubernetes/client-node";
import { kubeconfigPaths, mergeKubeconfigs, selectContext, type KubeconfigParts } from "./merge.js";

const pathCases: Array<[string, string | undefined, string | undefined, string[]]> = [
  ["--kubeconfig wins over KUBECONFIG", "/flag", "/a:/b", ["/flag"]],
  ["KUBECONFIG in order", undefined, "/a:/b:/c", ["/a", "/b", "/c"]],
  ["empty entries and repeats dropped", undefined, ":/a::/b:/a:", ["/a", "/b"]],
  ["~/.kube/config otherwise", undefined, undefined, ["/home/u/.kube/config"]],
  ["an empty KUBECONFIG counts as unset", undefined, "", ["/home/u/.kube/config"]],
];
for (const [title, flag, env, want] of pathCases) {
  test(`kubeconfigPaths: ${title}`, (t) => t.deepEqual(kubeconfigPaths(flag, env, "/home/u", ":"), want));
}

const cluster = (name: string, server: string): Cluster => ({ name, server, skipTLSVerify: false });
const user = (name: string, token: string): User => ({ name, token });
const context = (name: string, c: string, u: string, namespace?: string): Context => ({
  name,
  cluster: c,
  user: u,
  namespace,
});

const a: KubeconfigParts = {
  clusters: [cluster("prod", "https://a")],
  users: [user("admin", "ta")],
  contexts: [context("prod", "prod", "admin", "apps")],
  currentContext: "prod",
};
const b: KubeconfigParts = {
  clusters: [cluster("prod", "https://b"), cluster("dev", "https://dev")],
  users: [user("admin", "tb"), user("dev", "td")],
  contexts: [context("prod", "dev", "dev"), context("dev", "dev", "dev")],
  currentContext: "dev",
};

test("mergeKubeconfigs: the first file to name a cluster, user or context wins; later files add new names", (t) => {
  const m = mergeKubeconfigs([a, b]);
  t.deepEqual(
    m.clusters.map((c) => [c.name, c.server]),
    [
      ["prod", "https://a"],
      ["dev", "https://dev"],
    ],
  );
  t.deepEqual(
    m.users.map((u) => [u.name, u.token]),
    [
      ["admin", "ta"],
      ["dev", "td"],
    ],
  );
  t.deepEqual(
    m.contexts.find((c) => c.name === "prod"),
    context("prod", "prod", "admin", "apps"),
  );
  t.is(m.currentContext, "prod", "the first file that sets current-context decides it");
});

test("mergeKubeconfigs: a file without current-context leaves it to the next", (t) => {
  t.is(mergeKubeconfigs([{ ...a, currentContext: undefined }, b]).currentContext, "dev");
  t.is(mergeKubeconfigs([{ ...a, currentContext: "" }, b]).currentContext, "dev");
});

const selectCases: Array<[string, { context?: string; namespace?: string }, string]> = [
  ["the current context and its namespace", {}, "prod/apps"],
  ["--context", { context: "dev" }, "dev/default"],
  ["-n over the context's namespace", { namespace: "kube-system" }, "prod/kube-system"],
];
for (const [title, flags, want] of selectCases) {
  test(`selectContext: ${title}`, (t) => {
    const r = selectContext(mergeKubeconfigs([a, b]), flags);
    if (!r.ok) return t.fail(r.error);
    t.is(`${r.context.name}/${r.namespace}`, want);
  });
}

const selectErrors: Array<[string, KubeconfigParts, { context?: string }, RegExp]> = [
  ["an unknown --context", a, { context: "nope" }, /context "nope" is not in the kubeconfig \(contexts: prod\)/],
  ["no current context", { ...a, currentContext: undefined }, {}, /no current-context/],
  [
    "a context naming a missing cluster",
    { ...a, contexts: [context("prod", "gone", "admin")] },
    {},
    /names cluster "gone", which is not in the kubeconfig/,
  ],
];
for (const [title, parts, flags, want] of selectErrors) {
  test(`selectContext: ${title}`, (t) => {
    const r = selectContext(parts, flags);
    t.false(r.ok);
    if (!r.ok) t.regex(r.error, want);
  });
}
