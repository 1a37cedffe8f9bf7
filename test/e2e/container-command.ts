/**
 * What a kubelet runs for a pod's first container, as far as deploy/'s manifests need: the env with
 * the downward API fields they use resolved, and the args with `$(VAR)` expanded from that env. The
 * tests run the built daemons with exactly these, so a manifest whose args only make sense after
 * expansion (the extender's --leader-endpoint-slices) is tested as the cluster would run it.
 */

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface Container {
  command?: string[];
  args?: string[];
  env?: EnvVar[];
}

export interface Pod {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string; serviceAccountName?: string; containers: Container[] };
  status?: { podIP?: string };
}

/** `$(VAR)` references expanded as the kubelet expands them in args (unknown ones stay as written). */
export const expand = (arg: string, env: Record<string, string>): string =>
  arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);

/** A container's env with the downward API fields the extender's manifest uses. */
export function containerEnv(pod: Pod, ip: string): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    "metadata.name": pod.metadata.name,
    "metadata.namespace": pod.metadata.namespace,
    "spec.nodeName": pod.spec.nodeName,
    "status.podIP": ip,
  };
  const env: Record<string, string> = {};
  for (const e of pod.spec.containers[0]?.env ?? []) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    const value = path ? fields[path] : e.value;
    if (value === undefined)
      throw new Error(`${pod.metadata.name}: env ${e.name} from ${path ?? "?"} is not provided here`);
    env[e.name] = value;
  }
  return env;
}

/** The first container's args and env as the kubelet gives them to the process, for a pod at `ip`. */
export function containerCommand(pod: Pod, ip: string): { args: string[]; env: Record<string, string> } {
  const env = containerEnv(pod, ip);
  return { args: (pod.spec.containers[0]?.args ?? []).map((a) => expand(a, env)), env };
}

/**
 * A pod of a workload (Deployment or DaemonSet, as rendered), named `name` on `nodeName`: what its
 * controller and the scheduler would make of its template.
 */
export function podOf(
  workload: { metadata: { namespace?: string }; spec: unknown },
  name: string,
  nodeName: string,
): Pod {
  const template = (workload.spec as { template: { spec: Omit<Pod["spec"], "nodeName"> } }).template;
  return {
    metadata: { name, namespace: workload.metadata.namespace ?? "default", uid: "" },
    spec: { ...template.spec, nodeName },
  };
}
