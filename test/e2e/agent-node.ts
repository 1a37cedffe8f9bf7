/**
 * A node's agent as the suites that run a real nls-agent see it: the NodeLocalStorage it writes, its
 * init config, and how many passes it has made.
 */
import { waitFor, type Cluster } from "./cluster.js";

/** The NodeLocalStorage `name` as JSON, or undefined while there is none. */
export async function getNls(cluster: Cluster, name: string) {
  const r = await cluster.kubectl(["get", "nls", name, "-o", "json"]);
  return r.exitCode === 0 ? JSON.parse(r.stdout) : undefined;
}

/** The NodeLocalStorage `name` once its agent reports VG `vg` as selected. */
export function nlsWithVg(cluster: Cluster, name: string, vg: string, timeoutMs = 90_000) {
  return waitFor(
    `the agent's NLS with VG ${vg}`,
    async () => {
      const o = await getNls(cluster, name);
      return o?.status?.filteredStorageInfo?.volumeGroups?.includes(vg) ? o : undefined;
    },
    timeoutMs,
  );
}

/** Writes the `open-local` NodeLocalStorageInitConfig the agents read their new NodeLocalStorage from. */
export async function applyInitConfig(cluster: Cluster, globalConfig: object): Promise<void> {
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "csi.aliyun.com/v1alpha1",
      kind: "NodeLocalStorageInitConfig",
      metadata: { name: "open-local" },
      spec: { globalConfig },
    }),
  );
}

/** Passes the agent has made (its scan counter). */
export async function agentScans(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const m = /^nls_agent_scan_duration_seconds_count(?:\{[^}]*\})? (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}
