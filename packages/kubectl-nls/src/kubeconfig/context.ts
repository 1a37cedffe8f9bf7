import type { Cluster, Context } from "@kubernetes/client-node";

/** What a kubeconfig (one file, or several merged) names: its clusters and contexts, and its current context. */
export interface KubeconfigParts {
  clusters: readonly Cluster[];
  contexts: readonly Context[];
  currentContext?: string;
}

/**
 * The files kubectl reads, in order: `--kubeconfig` alone when given; else every entry of `KUBECONFIG`
 * (split on the platform's list separator, empty entries and repeats dropped); else `~/.kube/config`.
 */
export function kubeconfigPaths(
  flag: string | undefined,
  env: string | undefined,
  home: string | undefined,
  delimiter: string,
): string[] {
  if (flag) return [flag];
  if (env) {
    const seen = new Set<string>();
    return env.split(delimiter).filter((p) => p !== "" && !seen.has(p) && seen.add(p));
  }
  return home ? [`${home}/.kube/config`] : [];
}

/**
 * The context to use (`--context`, else the current context) and the namespace (`-n`, else the
 * context's, else `default`), or why there is none.
 */
export function selectContext(
  parts: KubeconfigParts,
  flags: { context?: string; namespace?: string },
): { ok: true; context: Context; namespace: string } | { ok: false; error: string } {
  const name = flags.context || parts.currentContext;
  if (!name) {
    return { ok: false, error: "no context: the kubeconfig sets no current-context and --context is not given" };
  }
  const context = parts.contexts.find((c) => c.name === name);
  if (!context) {
    const known = parts.contexts.map((c) => c.name).join(", ") || "none";
    return { ok: false, error: `context "${name}" is not in the kubeconfig (contexts: ${known})` };
  }
  if (!parts.clusters.some((c) => c.name === context.cluster)) {
    return { ok: false, error: `context "${name}" names cluster "${context.cluster}", which is not in the kubeconfig` };
  }
  return { ok: true, context, namespace: flags.namespace || context.namespace || "default" };
}
