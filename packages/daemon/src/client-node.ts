import { KubeConfig } from "@kubernetes/client-node";
import { loadKubeconfig, readKubeconfigFiles, type Kubeconfig } from "./kubeconfig.js";

// `@nls/daemon/client-node`: the daemons' kubeconfig as a client-node `KubeConfig`, for the code that
// talks through @kubernetes/client-node (the extender, `kubectl nls`). Kept out of the package's index
// so that a daemon that does not use client-node does not load it.

/** `loadKubeconfig` (same sources, order and errors) as a client-node `KubeConfig`. */
export function loadKubeConfig(flagPath: string | undefined): KubeConfig {
  return toKubeConfig(loadKubeconfig(flagPath));
}

/** `readKubeconfigFiles` as a client-node `KubeConfig`. */
export function kubeconfigFromFiles(files: string[], what: string): KubeConfig {
  return toKubeConfig(readKubeconfigFiles(files, what));
}

export function toKubeConfig(kubeconfig: Kubeconfig): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions(structuredClone(kubeconfig));
  return kc;
}
