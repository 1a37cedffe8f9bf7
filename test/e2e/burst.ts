/**
 * A burst of pods with local PVCs created at once, and its outcome read back from the API once it has
 * settled: what the README's scale figures are made of.
 */
import type { KubeApi } from "./kube-api.js";
import { quantityBytes, type OpenLocalCsiStandIn } from "./open-local-csi.js";

interface Pod {
  metadata: { name: string };
  spec?: { nodeName?: string; volumes?: Array<{ persistentVolumeClaim?: { claimName: string } }> };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}
interface Pvc {
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { volumeName?: string };
}
interface Pv {
  spec?: {
    capacity?: Record<string, string>;
    claimRef?: { namespace?: string };
    csi?: { volumeAttributes?: Record<string, string> };
    nodeAffinity?: { required?: { nodeSelectorTerms?: Array<{ matchExpressions?: Array<{ values?: string[] }> }> } };
  };
}

/** A node of a burst: its name and its VGs (name → allocatable bytes). */
export interface BurstNode {
  name: string;
  vgs: Record<string, number>;
}

export const GiB = 2 ** 30;
const SELECTED_NODE = "volume.kubernetes.io/selected-node";

export interface ClaimSpec {
  name: string;
  gi: number;
  className: string;
}

export interface PodSpec {
  name: string;
  claims: ClaimSpec[];
}

export interface Burst {
  namespace: string;
  /** Value of the node label `nls-e2e/group` the pods select: each burst has its own nodes. */
  group: string;
  nodes: BurstNode[];
  pods: PodSpec[];
}

export interface Figures {
  bound: number;
  pending: number;
  /** `node/vg` whose PVs add up to more than its allocatable. */
  overcommitted: string[];
  /** selected-node removed after the reserve route answered `Insufficient`. */
  reschedules: number;
  /** PVCs still failing provisioning without rescheduling, with the last error. */
  stuck: string[];
  settleMs: number;
  /** Pods left pending, for checks, with kube-scheduler's last message. */
  pendingPods: Array<PodSpec & { message: string }>;
  /** Free bytes per `node` → VG after the burst, from the PVs. */
  free: Map<string, Map<string, number>>;
}

/** Creates the namespace (with its default ServiceAccount), then every PVC and pod at once. */
export async function createBurst(api: KubeApi, burst: Burst): Promise<number> {
  const namespace = burst.namespace;
  await api.post("/api/v1/namespaces", { metadata: { name: namespace } });
  // No serviceaccount controller runs: the admission plugin needs the default ServiceAccount.
  await api.post(`/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name: "default" } });
  const started = Date.now();
  const claims = burst.pods.flatMap((p) => p.claims);
  await Promise.all([
    ...claims.map((c) =>
      api.post(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
        metadata: { name: c.name },
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: c.className,
          resources: { requests: { storage: `${c.gi}Gi` } },
        },
      }),
    ),
    ...burst.pods.map((p) =>
      api.post(`/api/v1/namespaces/${namespace}/pods`, {
        metadata: { name: p.name },
        spec: {
          automountServiceAccountToken: false,
          nodeSelector: { "nls-e2e/group": burst.group },
          containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }],
          volumes: p.claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c.name } })),
        },
      }),
    ),
  ]);
  return started;
}

const unschedulable = (pod: Pod) =>
  pod.status?.conditions?.some(
    (c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable",
  );

/** The last provisioning attempt of each claim of the namespace, by claim name. */
function lastAttempts(
  standIn: OpenLocalCsiStandIn,
  namespace: string,
): Map<string, { outcome: string; message: string }> {
  const out = new Map<string, { outcome: string; message: string }>();
  for (const a of standIn.attempts)
    if (a.pvc.startsWith(`${namespace}/`)) out.set(a.pvc.slice(namespace.length + 1), a);
  return out;
}

/** Longer than the stand-in's longest retry backoff, so a claim between two attempts is not taken as settled. */
const QUIET_MS = 6_000;

/**
 * Waits until nothing moves: every pod is bound, or kube-scheduler found no node for it (and none of
 * its PVCs is selected), or one of its PVCs is stuck (its last provisioning attempt failed without a
 * reschedule); no selected PVC is waiting for its PV; and all of that unchanged for QUIET_MS. Then
 * reads the figures from the API.
 */
export async function settle(
  api: KubeApi,
  burst: Burst,
  standIn: OpenLocalCsiStandIn,
  started: number,
  timeoutMs = 600_000,
): Promise<Figures> {
  const namespace = burst.namespace;
  const deadline = Date.now() + timeoutMs;
  let stable = "";
  let stableSince = 0;
  for (;;) {
    const [pods, pvcs, pvs] = await Promise.all([
      api.get<{ items: Pod[] }>(`/api/v1/namespaces/${namespace}/pods`),
      api.get<{ items: Pvc[] }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`),
      api.get<{ items: Pv[] }>("/api/v1/persistentvolumes"),
    ]);
    const attempts = lastAttempts(standIn, namespace);
    const waiting = pvcs.items.filter((c) => c.metadata.annotations?.[SELECTED_NODE] && !c.spec?.volumeName);
    const stuck = new Map(
      waiting
        .filter((c) => attempts.get(c.metadata.name)?.outcome === "retry")
        .map((c) => [c.metadata.name, attempts.get(c.metadata.name)!.message]),
    );
    const selected = new Set(waiting.map((c) => c.metadata.name));
    const claimsOf = (pod: Pod) => (pod.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName ?? "");
    const quiet =
      waiting.every((c) => stuck.has(c.metadata.name)) &&
      pods.items.every(
        (pod) =>
          !!pod.spec?.nodeName ||
          claimsOf(pod).some((c) => stuck.has(c)) ||
          (unschedulable(pod) && !claimsOf(pod).some((c) => selected.has(c))),
      );
    const ours = pvs.items.filter((pv) => pv.spec?.claimRef?.namespace === namespace);
    const state = `${pods.items.filter((p) => p.spec?.nodeName).length}/${ours.length}/${[...stuck.keys()]}`;
    if (!quiet) stable = "";
    else if (state !== stable) [stable, stableSince] = [state, Date.now()];
    else if (Date.now() - stableSince >= QUIET_MS) {
      return figures(burst, standIn, pods.items, ours, stuck, stableSince - started);
    }
    if (Date.now() > deadline) {
      throw new Error(`burst ${namespace} did not settle in ${timeoutMs / 1000}s (bound/PVs/stuck ${state})`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function figures(
  burst: Burst,
  standIn: OpenLocalCsiStandIn,
  pods: Pod[],
  pvs: Pv[],
  stuck: Map<string, string>,
  settleMs: number,
): Figures {
  const free = new Map<string, Map<string, number>>(burst.nodes.map((n) => [n.name, new Map(Object.entries(n.vgs))]));
  for (const pv of pvs) {
    const node = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values?.[0] ?? "";
    const vg = pv.spec?.csi?.volumeAttributes?.vgName ?? "";
    const vgs = free.get(node);
    vgs?.set(vg, (vgs.get(vg) ?? 0) - quantityBytes(pv.spec?.capacity?.storage ?? "0"));
  }
  const overcommitted: string[] = [];
  for (const [node, vgs] of free) for (const [vg, f] of vgs) if (f < 0) overcommitted.push(`${node}/${vg}`);
  const byName = new Map(burst.pods.map((p) => [p.name, p]));
  const pending = pods.filter((p) => !p.spec?.nodeName);
  return {
    bound: pods.length - pending.length,
    pending: pending.length,
    overcommitted,
    reschedules: standIn.attempts.filter((a) => a.outcome === "reschedule" && a.pvc.startsWith(`${burst.namespace}/`))
      .length,
    stuck: [...stuck].map(([claim, message]) => `${claim}: ${message}`),
    settleMs,
    pendingPods: pending.map((p) => ({
      ...byName.get(p.metadata.name)!,
      message: p.status?.conditions?.find((c) => c.type === "PodScheduled")?.message ?? "",
    })),
    free,
  };
}

/**
 * Whether a pod's claims fit on some node at once, given the free bytes left: every assignment of its
 * volumes to VGs is tried (a claim whose class names a VG goes there). An oracle for "no pending pod
 * would have fit", independent of the extender's search.
 */
export function fitsSomewhere(
  claims: ReadonlyArray<{ bytes: number; vg?: string }>,
  free: ReadonlyMap<string, ReadonlyMap<string, number>>,
): string | undefined {
  for (const [node, vgs] of free) {
    const names = [...vgs.keys()];
    const left = new Map(vgs);
    const place = (i: number): boolean => {
      if (i === claims.length) return true;
      const c = claims[i]!;
      for (const vg of c.vg ? [c.vg] : names) {
        const f = left.get(vg) ?? -1;
        if (f < c.bytes) continue;
        left.set(vg, f - c.bytes);
        if (place(i + 1)) return true;
        left.set(vg, f);
      }
      return false;
    };
    if (place(0)) return node;
  }
  return undefined;
}

export function describe(title: string, f: Figures, extra = ""): string {
  return (
    `# ${title}: bound ${f.bound}, pending ${f.pending}, overcommitted VGs ${f.overcommitted.length}, ` +
    `reschedules ${f.reschedules}, stuck PVCs ${f.stuck.length}, settled in ${(f.settleMs / 1000).toFixed(1)} s${extra}`
  );
}
