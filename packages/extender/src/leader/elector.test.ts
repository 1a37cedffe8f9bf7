import test from "ava";
import { createLogger } from "@nls/daemon";
import type { LeaseRecord } from "./election.js";
import { LeaderElector, LeaseWriteConflict, type LeaseStore, type StoredLease } from "./elector.js";

const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const log = createLogger("test", "silent");

/** One Lease in memory with the API server's optimistic concurrency; `cutOff` replicas get errors. */
function apiServer() {
  let lease: StoredLease | undefined;
  let version = 0;
  const cutOff = new Set<string>();
  const storeFor = (who: string): LeaseStore => {
    const reachable = () => {
      if (cutOff.has(who)) throw new Error("connection refused");
    };
    return {
      ref: "kube-system/nls-extender",
      async read() {
        reachable();
        return lease && structuredClone(lease);
      },
      async create(record: LeaseRecord) {
        reachable();
        if (lease) throw new LeaseWriteConflict("create: AlreadyExists");
        lease = { record: structuredClone(record), resourceVersion: String(++version) };
        return structuredClone(lease);
      },
      async update(record: LeaseRecord, resourceVersion: string) {
        reachable();
        if (!lease || lease.resourceVersion !== resourceVersion) throw new LeaseWriteConflict("update: Conflict");
        lease = { record: structuredClone(record), resourceVersion: String(++version) };
        return structuredClone(lease);
      },
    };
  };
  return { storeFor, cutOff, holder: () => lease?.record.holderIdentity };
}

function pair() {
  let now = Date.parse("2026-03-01T12:00:00Z");
  const api = apiServer();
  const clock = () => now;
  const a = new LeaderElector(api.storeFor("a"), "a", timing, log, clock);
  const b = new LeaderElector(api.storeFor("b"), "b", timing, log, clock);
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += timing.retryPeriodMs) {
      now += timing.retryPeriodMs;
      await a.tick();
      await b.tick();
    }
  };
  return { a, b, api, advance };
}

test("the first to read creates the Lease and leads; the other stands by with a reason", async (t) => {
  const { a, b, api } = pair();
  await a.tick();
  await b.tick();
  t.true(a.leading());
  t.false(b.leading());
  t.is(api.holder(), "a");
  t.is(a.standbyReason(), undefined);
  t.regex(b.standbyReason() ?? "", /standby: lease kube-system\/nls-extender is held by a/);
});

test("a leader that keeps renewing keeps the Lease", async (t) => {
  const { a, b, advance } = pair();
  await a.tick();
  await advance(60_000);
  t.true(a.leading());
  t.false(b.leading());
});

test("a leader cut off from the API stops serving before the standby takes over", async (t) => {
  const { a, b, api, advance } = pair();
  await a.tick();
  await b.tick();
  api.cutOff.add("a");
  const overlap: number[] = [];
  let aStoppedAt = -1;
  let bLeadsAt = -1;
  for (let step = 1; step <= 15; step++) {
    await advance(timing.retryPeriodMs);
    if (!a.leading() && aStoppedAt < 0) aStoppedAt = step;
    if (b.leading() && bLeadsAt < 0) bLeadsAt = step;
    if (a.leading() && b.leading()) overlap.push(step);
  }
  t.deepEqual(overlap, []);
  t.true(aStoppedAt > 0 && bLeadsAt > aStoppedAt);
  t.is(api.holder(), "b");
  // Reconnected, the old leader finds the Lease taken and stands by.
  api.cutOff.delete("a");
  await advance(timing.retryPeriodMs);
  t.false(a.leading());
  t.regex(a.standbyReason() ?? "", /held by b/);
});

test("stop releases the Lease so the standby takes over at its next read", async (t) => {
  const { a, b, api } = pair();
  await a.tick();
  await b.tick();
  await a.stop();
  t.false(a.leading());
  t.is(api.holder(), "");
  await b.tick();
  t.true(b.leading());
  t.is(api.holder(), "b");
});

test("a standby's stop writes nothing", async (t) => {
  const { a, b, api } = pair();
  await a.tick();
  await b.tick();
  await b.stop();
  t.is(api.holder(), "a");
});

test("onLeading runs after every successful write; a new acquisition is a new term", async (t) => {
  const { a, b, api, advance } = pair();
  const terms: number[] = [];
  a.onLeading = (term) => terms.push(term);
  await a.tick();
  await b.tick();
  await advance(2 * timing.retryPeriodMs);
  t.deepEqual(terms, [1, 1, 1], "renewals stay in the acquiring term");
  t.is(a.leadingTerm(), 1);
  t.is(b.leadingTerm(), undefined);
  api.cutOff.add("a");
  await advance(timing.leaseDurationMs + 2 * timing.retryPeriodMs);
  t.is(a.leadingTerm(), undefined);
  t.is(terms.length, 3, "no hook while the Lease cannot be written");
  // b took over; once b steps down, a acquires again: a second term.
  api.cutOff.delete("a");
  await b.stop();
  await a.tick();
  t.is(a.leadingTerm(), 2);
  t.deepEqual(terms.slice(3), [2]);
});

test("two replicas starting together: the one whose create loses names the winner at once, without a second write", async (t) => {
  const { a, b, api } = pair();
  // Both read "no Lease" before either writes; a's create lands first.
  await Promise.all([a.tick(), b.tick()]);
  t.is(api.holder(), "a");
  t.true(a.leading());
  t.false(b.leading());
  t.is(b.standbyReason(), "standby: lease kube-system/nls-extender is held by a");
});
