import test from "ava";
import {
  decide,
  released,
  stillLeading,
  timingProblem,
  type Decision,
  type LeaseRecord,
  type Observation,
} from "./election.js";

const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const t0 = Date.parse("2026-03-01T12:00:00Z");
const held = (holder: string, renewAt = t0, transitions = 3): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: new Date(t0 - 60_000),
  renewTime: new Date(renewAt),
  leaseTransitions: transitions,
});

interface Case {
  title: string;
  lease: LeaseRecord | undefined;
  /** When (relative to t0) this replica first saw the same record, if it did. */
  seenSince?: number;
  at: number;
  action: Decision["action"];
  holder?: string;
  transitions?: number;
}

const cases: Case[] = [
  { title: "no lease: create it", lease: undefined, at: t0, action: "create", holder: "me", transitions: 0 },
  { title: "mine: renew", lease: held("me"), at: t0 + 5_000, action: "renew", holder: "me", transitions: 3 },
  { title: "other's, first seen now: stand by", lease: held("other"), at: t0 + 60_000, action: "standby" },
  {
    title: "other's, seen 14s ago unchanged: stand by",
    lease: held("other"),
    seenSince: 0,
    at: t0 + 14_000,
    action: "standby",
  },
  {
    title: "other's, unchanged for a lease duration: take over",
    lease: held("other"),
    seenSince: 0,
    at: t0 + 15_000,
    action: "acquire",
    holder: "me",
    transitions: 4,
  },
  {
    title: "released (holder empty): take over at once",
    lease: { ...held(""), leaseDurationSeconds: 1 },
    at: t0,
    action: "acquire",
    holder: "me",
    transitions: 4,
  },
  // A renewTime far in the past does not matter: skewed clocks are why expiry is local.
  {
    title: "other's, stale renewTime but just seen: stand by",
    lease: held("other", t0 - 3_600_000),
    at: t0,
    action: "standby",
  },
];

for (const c of cases) {
  test(`decide: ${c.title}`, (t) => {
    const seen: Observation | undefined =
      c.seenSince === undefined || !c.lease
        ? undefined
        : decide(c.lease, undefined, t0 + c.seenSince, "me", timing).seen;
    const { decision } = decide(c.lease, seen, c.at, "me", timing);
    t.is(decision.action, c.action);
    if (decision.action === "standby") {
      t.is(decision.holder, c.lease!.holderIdentity);
      t.true(decision.expiresInMs > 0);
    } else {
      t.is<string | undefined, string | undefined>(decision.record.holderIdentity, c.holder);
      t.is<number | undefined, number | undefined>(decision.record.leaseTransitions, c.transitions);
      t.is(decision.record.renewTime?.getTime(), c.at);
      t.is(decision.record.leaseDurationSeconds, 15);
    }
  });
}

test("decide: a renewed record restarts the standby's wait", (t) => {
  let { seen } = decide(held("other", t0), undefined, t0, "me", timing);
  // The holder renewed at t0+10s; the standby sees the new record at t0+12s.
  ({ seen } = decide(held("other", t0 + 10_000), seen, t0 + 12_000, "me", timing));
  t.is(decide(held("other", t0 + 10_000), seen, t0 + 26_000, "me", timing).decision.action, "standby");
  t.is(decide(held("other", t0 + 10_000), seen, t0 + 27_000, "me", timing).decision.action, "acquire");
});

test("stillLeading: only within the renew deadline of the last successful write", (t) => {
  t.false(stillLeading(undefined, t0, timing));
  t.true(stillLeading(t0, t0 + 9_999, timing));
  t.false(stillLeading(t0, t0 + 10_000, timing));
});

test("the old leader stops answering before a standby may take over", (t) => {
  // The leader's last successful renewal lands at t0; the earliest a standby can have seen it is t0.
  const { seen } = decide(held("old", t0), undefined, t0, "new", timing);
  let firstTakeover = Number.POSITIVE_INFINITY;
  let lastAnswer = Number.NEGATIVE_INFINITY;
  for (let at = t0; at < t0 + 30_000; at += 100) {
    if (stillLeading(t0, at, timing)) lastAnswer = at;
    if (decide(held("old", t0), seen, at, "new", timing).decision.action === "acquire")
      firstTakeover = Math.min(firstTakeover, at);
  }
  t.true(lastAnswer < firstTakeover);
});

test("released: empty holder, so the next reader acquires", (t) => {
  const r = released(held("me"), t0 + 1_000);
  t.is(r.holderIdentity, "");
  t.is(r.leaseTransitions, 3);
  t.is(decide(r, undefined, t0 + 1_000, "other", timing).decision.action, "acquire");
});

const timings: Array<[string, typeof timing, RegExp | undefined]> = [
  ["kube-scheduler's defaults", timing, undefined],
  [
    "renew deadline not below lease duration",
    { ...timing, renewDeadlineMs: 15_000 },
    /greater than --leader-elect-renew-deadline/,
  ],
  [
    "retry period too close to the renew deadline",
    { ...timing, retryPeriodMs: 9_000 },
    /1.2 × --leader-elect-retry-period/,
  ],
  ["lease duration under a second", { leaseDurationMs: 500, renewDeadlineMs: 400, retryPeriodMs: 100 }, /at least 1s/],
];
for (const [title, value, problem] of timings) {
  test(`timingProblem: ${title}`, (t) => {
    const found = timingProblem(value);
    if (problem) t.regex(found ?? "", problem);
    else t.is(found, undefined);
  });
}
