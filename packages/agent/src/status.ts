import type { NodeLocalStorageStatus } from "@nls/api";

/**
 * Deciding whether the agent must write its status, and which timestamps the written status carries.
 * Timestamps are bookkeeping, not content: a status that differs only in them is the same status, so a
 * steady node writes nothing, and the times say when something last *changed*.
 */

export const TIMESTAMP_FIELDS: ReadonlySet<string> = new Set([
  "lastHeartbeatTime",
  "lastTransitionTime",
  "lastUpdateTime",
]);

/** Kubernetes `metav1.Time` form: RFC 3339 in UTC with whole seconds. */
export const kubeTime = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, "Z");

/**
 * `true` when the two statuses differ in anything but timestamps. Object key order is irrelevant, array
 * order is not (the agent emits sorted lists), and an absent field equals an `undefined` one.
 */
export function statusChanged(
  prev: NodeLocalStorageStatus | undefined,
  next: NodeLocalStorageStatus | undefined,
): boolean {
  return !deepEqual(withoutTimestamps(prev ?? {}), withoutTimestamps(next ?? {}));
}

/**
 * The status to write given what is stored (`prev`) and what was just computed (`next`):
 * - unchanged content → `prev`'s timestamps, so the result equals `prev` and no write is needed;
 * - a mount point's `available` that moved by less than `MOUNT_AVAILABLE_TOLERANCE` of its size keeps
 *   `prev`'s value (see `settleMountPointUsage`);
 * - changed content → `lastHeartbeatTime` is `now`; `state.lastTransitionTime` is `now` only when the
 *   state's type, status or reason changed (as the report builder decides it); `updateStatusInfo.lastUpdateTime` is `now` only when
 *   `filteredStorageInfo` changed. Otherwise the earlier times are carried forward.
 */
export function stampStatus(
  prev: NodeLocalStorageStatus | undefined,
  next: NodeLocalStorageStatus,
  now: Date,
): NodeLocalStorageStatus {
  const out = settleMountPointUsage(prev, structuredClone(next));
  const t = kubeTime(now);
  const changed = statusChanged(prev, next);

  const state = out.nodeStorageInfo?.state;
  if (state) {
    const before = prev?.nodeStorageInfo?.state;
    const transitioned =
      !before || before.type !== state.type || before.status !== state.status || before.reason !== state.reason;
    state.lastTransitionTime = (!transitioned && before?.lastTransitionTime) || t;
    state.lastHeartbeatTime = (!changed && before?.lastHeartbeatTime) || t;
  }

  const info = out.filteredStorageInfo?.updateStatusInfo;
  if (info) {
    const before = prev?.filteredStorageInfo;
    const filteredChanged =
      !before || !deepEqual(withoutTimestamps(before), withoutTimestamps(out.filteredStorageInfo));
    info.lastUpdateTime = (!filteredChanged && before?.updateStatusInfo?.lastUpdateTime) || t;
  }
  return out;
}

/** A deep copy without timestamp fields and without `undefined` values. */
export function withoutTimestamps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimestamps);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || TIMESTAMP_FIELDS.has(k)) continue;
      out[k] = withoutTimestamps(v);
    }
    return out;
  }
  return value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/** Share of a mount point's size its free space may drift before the drift counts as a change. */
export const MOUNT_AVAILABLE_TOLERANCE = 0.01;

/**
 * A mounted filesystem's free space moves with every file written to it, so reporting it exactly would
 * rewrite the NLS on every scan of a busy node. Drifts below 1 % of the size keep the stored value
 * (mount points are handed out whole, so the extender needs their size, not byte-exact free space);
 * a larger move, a new size or a new mount point is reported as it is.
 */
export function settleMountPointUsage(
  prev: NodeLocalStorageStatus | undefined,
  next: NodeLocalStorageStatus,
): NodeLocalStorageStatus {
  const before = new Map((prev?.nodeStorageInfo?.mountPoints ?? []).map((m) => [m.name, m]));
  for (const m of next.nodeStorageInfo?.mountPoints ?? []) {
    const old = before.get(m.name);
    if (old && old.total === m.total && Math.abs(old.available - m.available) < m.total * MOUNT_AVAILABLE_TOLERANCE) {
      m.available = old.available;
    }
  }
  return next;
}
