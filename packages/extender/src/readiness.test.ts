import test from "ava";
import type { FeedHealth } from "./cache/feed-health.js";
import { notReadyReason, readinessChecks, renderVerbose } from "./readiness.js";

const T0 = 5_000_000;
const feed = (kind: string, over: Partial<FeedHealth> = {}): FeedHealth => ({
  kind,
  synced: true,
  downSince: undefined,
  startedAt: T0,
  ...over,
});
const healthy = {
  stopping: false,
  role: undefined,
  feeds: [feed("NodeLocalStorage"), feed("PersistentVolume")],
  now: T0 + 120_000,
};

const cases: Array<[string, Parameters<typeof readinessChecks>[0], string | undefined]> = [
  ["all well", healthy, undefined],
  [
    "shutting down wins over everything",
    { ...healthy, stopping: true, role: "standby: lease x is held by y" },
    "shutting down",
  ],
  [
    "a standby with live caches is ready: it could serve if it led",
    { ...healthy, role: "standby: lease kube-system/nls-extender is held by b" },
    undefined,
  ],
  ["a leader with live caches is ready", { ...healthy, role: "leader" }, undefined],
  [
    "a standby with a blind cache is not",
    { ...healthy, role: "standby: lease x is held by y", feeds: [feed("PersistentVolume", { synced: false })] },
    "caches not ready: PersistentVolume: not synced yet",
  ],
  [
    "caches not synced at start",
    { ...healthy, feeds: [feed("NodeLocalStorage", { synced: false }), feed("PersistentVolume", { synced: false })] },
    "caches not ready: NodeLocalStorage: not synced yet; PersistentVolume: not synced yet",
  ],
  [
    "a feed blind past the threshold",
    { ...healthy, feeds: [feed("NodeLocalStorage"), feed("PersistentVolume", { downSince: T0 })] },
    "caches not ready: PersistentVolume: watch down for 120s",
  ],
  [
    "a feed that just failed is still trusted",
    { ...healthy, feeds: [feed("PersistentVolume", { downSince: T0 + 119_000 })] },
    undefined,
  ],
];
for (const [name, input, reason] of cases) {
  test(`readiness: ${name}`, (t) => {
    t.is(notReadyReason(readinessChecks(input)), reason);
  });
}

test("readiness: the verbose view names every check, the failing feed with its reason", (t) => {
  const text = renderVerbose(
    readinessChecks({
      ...healthy,
      role: "standby: lease kube-system/nls-extender is held by b",
      feeds: [feed("NodeLocalStorage"), feed("PersistentVolume", { downSince: T0 })],
    }),
  );
  t.is(
    text,
    [
      "[+]shutdown ok",
      "[+]role ok: standby: lease kube-system/nls-extender is held by b",
      "[+]watch NodeLocalStorage ok",
      "[-]watch PersistentVolume failed: PersistentVolume: watch down for 120s",
      "readyz check failed",
      "",
    ].join("\n"),
  );
  t.regex(renderVerbose(readinessChecks(healthy)), /readyz check passed\n$/);
});
