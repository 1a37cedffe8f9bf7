import { existsSync } from "node:fs";
import { delimiter } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { asText, flag } from "./flags.js";
import { StartupError } from "./program.js";

/** `--kubeconfig`, the same in both daemons; `loadKubeConfig` says what happens without it. */
export const kubeconfigFlag = flag({
  flags: "--kubeconfig <path>",
  help: "kubeconfig file (default: the files in $KUBECONFIG, else the pod's service account)",
  parse: asText,
});

/**
 * Where a daemon finds the API server, first match wins (controller-runtime's order):
 *
 * 1. `--kubeconfig <file>`: that file;
 * 2. `KUBECONFIG`: its files, separated by `:`, merged as kubectl merges them (files that do not exist
 *    are skipped; for a name in several files, and for `current-context`, the first file wins);
 * 3. in a pod (`KUBERNETES_SERVICE_HOST` and `_PORT` set): the pod's service account.
 *
 * Anything else throws a `StartupError`, as does a kubeconfig that cannot be read or parsed or names no
 * current cluster: a daemon stops at once rather than retrying a guessed `localhost:8080` forever.
 */
export function loadKubeConfig(flagPath: string | undefined): KubeConfig {
  const env = process.env;
  if (flagPath) return checked(kubeconfigFromFiles([flagPath], `--kubeconfig ${flagPath}`), `--kubeconfig ${flagPath}`);
  if (env.KUBECONFIG) {
    const what = `KUBECONFIG=${env.KUBECONFIG}`;
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f.length > 0);
    const existing = files.filter((f) => existsSync(f));
    if (existing.length === 0) throw new StartupError(`cannot load kubeconfig ${what}: none of its files exists`);
    return checked(kubeconfigFromFiles(existing, what), what);
  }
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return kc;
  }
  throw new StartupError(
    "no kubeconfig: give --kubeconfig or KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST is unset)",
  );
}

/**
 * The kubeconfig files, read (paths in them resolved against each file) and merged as kubectl merges
 * them: for a cluster, user or context name in several files, and for `current-context`, the first
 * file wins. `what` names the source in errors (a `StartupError`). Also used by `kubectl nls`.
 */
export function kubeconfigFromFiles(files: string[], what: string): KubeConfig {
  const configs = files.map((file) => {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      const where = files.length > 1 ? ` (${file})` : "";
      throw new StartupError(`cannot load kubeconfig ${what}${where}: ${(err as Error).message}`);
    }
    return kc;
  });
  if (configs.length === 1) return configs[0]!;
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: firstByName(configs.map((c) => c.getClusters())),
    users: firstByName(configs.map((c) => c.getUsers())),
    contexts: firstByName(configs.map((c) => c.getContexts())),
    currentContext: configs.map((c) => c.getCurrentContext()).find((name) => !!name) ?? "",
  });
  return merged;
}

function checked(kc: KubeConfig, what: string): KubeConfig {
  if (!kc.getCurrentCluster()?.server) {
    const context = kc.getCurrentContext();
    throw new StartupError(
      `cannot load kubeconfig ${what}: ` +
        (context ? `its current context "${context}" names no cluster with a server` : "it sets no current-context"),
    );
  }
  return kc;
}
