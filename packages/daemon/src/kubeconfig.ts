import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { delimiter, dirname, isAbsolute, join } from "node:path";
// client-node's own kubeconfig field parsing, without its API classes: importing the package's index
// costs a daemon ~70 MiB of RSS (the generated models), this module a few hundred KiB.
import {
  newClusters,
  newContexts,
  newUsers,
  type Cluster,
  type Context,
  type User,
} from "@kubernetes/client-node/dist/config_types.js";
import yaml from "js-yaml";
import { asText, flag } from "./flags.js";
import { StartupError } from "./program.js";

/** `--kubeconfig`, the same in both daemons; `loadKubeconfig` says what happens without it. */
export const kubeconfigFlag = flag({
  flags: "--kubeconfig <path>",
  help: "kubeconfig file (default: the files in $KUBECONFIG, else the pod's service account)",
  parse: asText,
});

/**
 * A loaded kubeconfig as plain data, in @kubernetes/client-node's shapes (what `KubeConfig.loadFromFile`
 * and `loadFromCluster` hold), so that `KubeConfig.loadFromOptions` takes it as it is
 * (`@nls/daemon/client-node`) and a daemon without client-node can read it too.
 */
export interface Kubeconfig {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
}

export type { Cluster as KubeconfigCluster, User as KubeconfigUser, Context as KubeconfigContext };

/** Where a pod's service account is mounted. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

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
export function loadKubeconfig(flagPath: string | undefined, env: NodeJS.ProcessEnv = process.env): Kubeconfig {
  if (flagPath) return checked(readKubeconfigFiles([flagPath], `--kubeconfig ${flagPath}`), `--kubeconfig ${flagPath}`);
  if (env.KUBECONFIG) {
    const what = `KUBECONFIG=${env.KUBECONFIG}`;
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f.length > 0);
    const existing = files.filter((f) => existsSync(f));
    if (existing.length === 0) throw new StartupError(`cannot load kubeconfig ${what}: none of its files exists`);
    return checked(readKubeconfigFiles(existing, what), what);
  }
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT)
    return inClusterKubeconfig(env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT);
  throw new StartupError(
    "no kubeconfig: give --kubeconfig or KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST is unset)",
  );
}

/**
 * The kubeconfig files, read (paths in them resolved against each file) and merged as kubectl merges
 * them: for a cluster, user or context name in several files, and for `current-context`, the first
 * file wins. `what` names the source in errors (a `StartupError`). Also used by `kubectl nls`.
 */
export function readKubeconfigFiles(files: string[], what: string): Kubeconfig {
  const configs = files.map((file) => {
    try {
      return readKubeconfigFile(file);
    } catch (err) {
      const where = files.length > 1 ? ` (${file})` : "";
      throw new StartupError(`cannot load kubeconfig ${what}${where}: ${(err as Error).message}`);
    }
  });
  if (configs.length === 1) return configs[0]!;
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: firstByName(configs.map((c) => c.clusters)),
    users: firstByName(configs.map((c) => c.users)),
    contexts: firstByName(configs.map((c) => c.contexts)),
    currentContext: configs.map((c) => c.currentContext).find((name) => !!name) ?? "",
  };
}

/** One kubeconfig file as `KubeConfig.loadFromFile` reads it: js-yaml, client-node's field parsing, paths made absolute. */
function readKubeconfigFile(file: string): Kubeconfig {
  const obj = yaml.load(readFileSync(file, "utf8")) as Record<string, unknown> | null | undefined;
  if (!obj || typeof obj !== "object") throw new Error("not a kubeconfig (no YAML mapping)");
  const root = dirname(file);
  const absolute = (p: string) => (isAbsolute(p) ? p : join(root, p));
  const clusters = newClusters(obj.clusters).map((c) => (c.caFile ? { ...c, caFile: absolute(c.caFile) } : c));
  const users = newUsers(obj.users).map((u) => ({
    ...u,
    ...(u.certFile ? { certFile: absolute(u.certFile) } : {}),
    ...(u.keyFile ? { keyFile: absolute(u.keyFile) } : {}),
  }));
  return {
    clusters,
    users,
    contexts: newContexts(obj.contexts),
    currentContext: (obj["current-context"] as string | undefined) ?? "",
  };
}

/**
 * The pod's service account as `KubeConfig.loadFromCluster` describes it: https (http on ports 80, 8080
 * and 8001), an IPv6 host in brackets, the mounted CA, and the token as a file that is read again as it
 * rotates (projected tokens expire). `dir` is the mount (tests give a directory of their own).
 */
export function inClusterKubeconfig(host: string, port: string, dir = SERVICE_ACCOUNT_DIR): Kubeconfig {
  const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
  const namespaceFile = join(dir, "namespace");
  return {
    clusters: [
      {
        name: "inCluster",
        caFile: join(dir, "ca.crt"),
        server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
        skipTLSVerify: false,
      },
    ],
    users: [{ name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile: join(dir, "token") } } }],
    contexts: [
      {
        cluster: "inCluster",
        name: "inClusterContext",
        user: "inClusterUser",
        namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8") : undefined,
      },
    ],
    currentContext: "inClusterContext",
  };
}

/** The current context's cluster and user (either may be missing in a kubeconfig that names none). */
export function currentClusterAndUser(kc: Kubeconfig): { cluster?: Cluster; user?: User } {
  const context = kc.contexts.find((c) => c.name === kc.currentContext);
  if (!context) return {};
  return {
    cluster: kc.clusters.find((c) => c.name === context.cluster),
    user: kc.users.find((u) => u.name === context.user),
  };
}

function checked(kc: Kubeconfig, what: string): Kubeconfig {
  if (!currentClusterAndUser(kc).cluster?.server) {
    throw new StartupError(
      `cannot load kubeconfig ${what}: ` +
        (kc.currentContext
          ? `its current context "${kc.currentContext}" names no cluster with a server`
          : "it sets no current-context"),
    );
  }
  return kc;
}
