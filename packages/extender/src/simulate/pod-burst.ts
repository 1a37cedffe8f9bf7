import { formatBytesHuman, tryParseBytes } from "@nls/api";

/** One volume of a simulated pod: a PVC of `bytes` in `storageClass`. */
export interface VolumeAsk {
  bytes: number;
  storageClass: string;
}

/** A pod to place, with its local PVCs (created in SIMULATION_NAMESPACE). */
export interface PodRequest {
  name: string;
  volumes: VolumeAsk[];
}

/** Where simulated pods and their PVCs live, so they never collide with objects of the input. */
export const SIMULATION_NAMESPACE = "nls-simulate";

/** More pods than this in one burst is a typo, not a plan. */
export const MAX_BURST = 100_000;

const GROUP = /^(?:(\d+)x)?([^@]+?)(?:@(.+))?$/;

/**
 * Parses a burst such as `6x30Gi,3x20Gi@nls-fast,2x10Gi+5Gi,250Gi`: comma-separated groups of
 * `[COUNTx]SIZE[+SIZE…][@CLASS]`, one PVC per SIZE. A group without `@CLASS` uses `defaultClass`.
 * Pods are named `pod-1`, `pod-2`, … in order. Pure; a bad group is an error naming it.
 */
export function parsePodBurst(
  spec: string,
  defaultClass: string | undefined,
): { ok: true; pods: PodRequest[] } | { ok: false; error: string } {
  const pods: PodRequest[] = [];
  const groups = spec.split(",").map((g) => g.trim());
  for (const group of groups) {
    const m = GROUP.exec(group);
    if (!m) return { ok: false, error: `pod group ${JSON.stringify(group)}: expected [COUNTx]SIZE[+SIZE…][@CLASS]` };
    const count = m[1] === undefined ? 1 : Number(m[1]);
    if (!Number.isSafeInteger(count) || count < 1) {
      return { ok: false, error: `pod group ${JSON.stringify(group)}: count must be at least 1` };
    }
    if (pods.length + count > MAX_BURST) return { ok: false, error: `more than ${MAX_BURST} pods in one burst` };
    const storageClass = m[3]?.trim() || defaultClass;
    if (!storageClass) {
      return {
        ok: false,
        error: `pod group ${JSON.stringify(group)} names no StorageClass and there is no default local class: add @CLASS`,
      };
    }
    const volumes: VolumeAsk[] = [];
    for (const size of m[2]!.split("+").map((s) => s.trim())) {
      const parsed = tryParseBytes(size);
      if (!parsed.ok) return { ok: false, error: `pod group ${JSON.stringify(group)}: size ${size}: ${parsed.error}` };
      if (parsed.bytes <= 0) return { ok: false, error: `pod group ${JSON.stringify(group)}: size must be positive` };
      volumes.push({ bytes: parsed.bytes, storageClass });
    }
    for (let i = 0; i < count; i++) pods.push({ name: `pod-${pods.length + 1}`, volumes });
  }
  return { ok: true, pods };
}

/** A burst written back in the same syntax, one group per run of equal pods (for headings). */
export function describeBurst(pods: readonly PodRequest[]): string {
  const shape = (p: PodRequest) =>
    `${p.volumes.map((v) => formatBytesHuman(v.bytes)).join("+")}@${p.volumes[0]?.storageClass ?? ""}`;
  const runs: Array<{ shape: string; count: number }> = [];
  for (const p of pods) {
    const s = shape(p);
    const last = runs[runs.length - 1];
    if (last && last.shape === s) last.count++;
    else runs.push({ shape: s, count: 1 });
  }
  return runs.map((r) => (r.count > 1 ? `${r.count}x${r.shape}` : r.shape)).join(",");
}
