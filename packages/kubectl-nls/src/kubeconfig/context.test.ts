import test from "ava";
import type { Cluster, Context } from "@kubernetes/client-node";
import { kubeconfigPaths, selectContext, type KubeconfigParts } from "./context.js";

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
const context = (name: string, c: string, namespace?: string): Context => ({ name, cluster: c, user: "u", namespace });

/** A kubeconfig with contexts prod (namespace apps) and dev; current: prod. */
const a: KubeconfigParts = {
  clusters: [cluster("prod", "https://a"), cluster("dev", "https://dev")],
  contexts: [context("prod", "prod", "apps"), context("dev", "dev")],
  currentContext: "prod",
};

const selectCases: Array<[string, { context?: string; namespace?: string }, string]> = [
  ["the current context and its namespace", {}, "prod/apps"],
  ["--context", { context: "dev" }, "dev/default"],
  ["-n over the context's namespace", { namespace: "kube-system" }, "prod/kube-system"],
];
for (const [title, flags, want] of selectCases) {
  test(`selectContext: ${title}`, (t) => {
    const r = selectContext(a, flags);
    if (!r.ok) return t.fail(r.error);
    t.is(`${r.context.name}/${r.namespace}`, want);
  });
}

const selectErrors: Array<[string, KubeconfigParts, { context?: string }, RegExp]> = [
  ["an unknown --context", a, { context: "nope" }, /context "nope" is not in the kubeconfig \(contexts: prod, dev\)/],
  ["no current context", { ...a, currentContext: undefined }, {}, /no current-context/],
  [
    "a context naming a missing cluster",
    { ...a, contexts: [context("prod", "gone")] },
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
