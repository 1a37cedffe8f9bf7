import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { kubeconfigPaths, mergeKubeconfigs, selectContext, type KubeconfigParts } from "./merge.js";

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

function readFile(path: string): KubeconfigParts {
  const kc = new KubeConfig();
  try {
    // loadFromFile also resolves certificate and key paths relative to the file, as kubectl does.
    kc.loadFromFile(path);
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${path}: ${(e as Error).message}`);
  }
  return { clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext };
}

/** The context names of the kubeconfig these flags choose (for completing `--context`). */
export function contextNames(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): string[] {
  const paths = kubeconfigPaths(flags.kubeconfig, env.KUBECONFIG, env.HOME ?? homedir(), delimiter);
  const merged = mergeKubeconfigs(paths.filter((p) => existsSync(p)).map(readFile));
  return merged.contexts.map((c) => c.name).sort();
}

/**
 * The cluster connection kubectl would use with these flags: `--kubeconfig`, else every file in
 * `KUBECONFIG` (merged by kubectl's rules; missing files skipped), else `~/.kube/config`, else the
 * in-cluster ServiceAccount.
 */
export function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const paths = kubeconfigPaths(flags.kubeconfig, env.KUBECONFIG, env.HOME ?? homedir(), delimiter);
  if (flags.kubeconfig && !existsSync(flags.kubeconfig)) {
    throw new KubeconfigError(`--kubeconfig ${flags.kubeconfig}: no such file`);
  }
  const files = paths.filter((p) => existsSync(p)).map(readFile);
  const kubeConfig = new KubeConfig();
  if (files.length === 0) {
    if (!env.KUBERNETES_SERVICE_HOST) {
      throw new KubeconfigError(
        `no kubeconfig found (looked at ${paths.join(", ") || "nothing"}) and not running in a cluster: ` +
          "pass --kubeconfig or set KUBECONFIG",
      );
    }
    kubeConfig.loadFromCluster();
    return {
      kubeConfig,
      namespace: flags.namespace || kubeConfig.getContextObject(kubeConfig.currentContext)?.namespace || "default",
      context: kubeConfig.currentContext,
    };
  }
  const merged = mergeKubeconfigs(files);
  const chosen = selectContext(merged, flags);
  if (!chosen.ok) throw new KubeconfigError(chosen.error);
  kubeConfig.loadFromOptions({ ...merged, currentContext: chosen.context.name });
  return { kubeConfig, namespace: chosen.namespace, context: chosen.context.name };
}
