import test from "ava";
import { feedProblem, unsyncedSeconds, WATCH_DOWN_UNREADY_MS, type FeedHealth } from "./feed-health.js";

const T0 = 1_000_000;
const feed = (over: Partial<FeedHealth>): FeedHealth => ({
  kind: "PersistentVolume",
  synced: true,
  downSince: undefined,
  startedAt: T0,
  ...over,
});

const cases: Array<[string, FeedHealth, number, string | undefined, number]> = [
  ["up", feed({}), T0 + 60_000, undefined, 0],
  ["never synced", feed({ synced: false }), T0 + 5_000, "PersistentVolume: not synced yet", 5],
  ["down briefly: still ready", feed({ downSince: T0 }), T0 + WATCH_DOWN_UNREADY_MS, undefined, 20],
  ["down past the threshold", feed({ downSince: T0 }), T0 + 75_400, "PersistentVolume: watch down for 75s", 75.4],
  [
    "never synced and down",
    feed({ synced: false, downSince: T0 + 1_000 }),
    T0 + 90_000,
    "PersistentVolume: not synced yet",
    90,
  ],
];
for (const [name, f, now, problem, seconds] of cases) {
  test(`feed health: ${name}`, (t) => {
    t.is(feedProblem(f, now), problem);
    t.is(unsyncedSeconds(f, now), seconds);
  });
}
