import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { StartupError } from "@nls/daemon";
import { kubeconfigFromFiles } from "@nls/daemon/client-node";
import { kubeconfigPaths, selectContext } from "./context.js";

/** The kubectl flags that choose a cluster and namespace. */
export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface Connection {
  kubeConfig: KubeConfig;
  /** `-n`, else the context's namespace, else `default`. */
  namespace: string;
  /** What to call the cluster in messages: the context name. */
  context: string;
}

export class KubeconfigError extends Error {}

/** The kubeconfig files these flags choose, read and merged as kubectl does (the daemons' loader), or undefined when none exists. */
function merged(flags: ConnectionFlags, env: NodeJS.ProcessEnv): { kc: KubeConfig | undefined; looked: string[] } {
  const paths = kubeconfigPaths(flags.kubeconfig, env.KUBECONFIG, env.HOME ?? homedir(), delimiter);
  if (flags.kubeconfig && !existsSync(flags.kubeconfig)) {
    throw new KubeconfigError(`--kubeconfig ${flags.kubeconfig}: no such file`);
  }
  const files = paths.filter((p) => existsSync(p));
  if (files.length === 0) return { kc: undefined, looked: paths };
  try {
    return { kc: kubeconfigFromFiles(files, files.join(delimiter)), looked: paths };
  } catch (e) {
    if (e instanceof StartupError) throw new KubeconfigError(e.message);
    throw e;
  }
}

/** The context names of the kubeconfig these flags choose (for completing `--context`). */
export function contextNames(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): string[] {
  return (merged(flags, env).kc?.getContexts() ?? []).map((c) => c.name).sort();
}

/**
 * The cluster connection kubectl would use with these flags: `--kubeconfig`, else every file in
 * `KUBECONFIG` (merged by kubectl's rules; missing files skipped), else `~/.kube/config`, else the
 * in-cluster ServiceAccount; `--context` and `-n` on top.
 */
export function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const { kc, looked } = merged(flags, env);
  if (!kc) {
    if (!env.KUBERNETES_SERVICE_HOST) {
      throw new KubeconfigError(
        `no kubeconfig found (looked at ${looked.join(", ") || "nothing"}) and not running in a cluster: ` +
          "pass --kubeconfig or set KUBECONFIG",
      );
    }
    const inCluster = new KubeConfig();
    inCluster.loadFromCluster();
    return { kubeConfig: inCluster, namespace: flags.namespace || "default", context: inCluster.currentContext };
  }
  const chosen = selectContext(
    { clusters: kc.getClusters(), contexts: kc.getContexts(), currentContext: kc.getCurrentContext() },
    flags,
  );
  if (!chosen.ok) throw new KubeconfigError(chosen.error);
  kc.setCurrentContext(chosen.context.name);
  return { kubeConfig: kc, namespace: chosen.namespace, context: chosen.context.name };
}
