import test from "ava";
import type { Attempt } from "../e2e/open-local-csi.js";
import { summarizeAttempts } from "./provisioning-attempts.js";

const a = (outcome: Attempt["outcome"], message = "ok"): Attempt => ({ pvc: "ns/c", outcome, message });

test("summarizeAttempts: counts by outcome and names the commonest failure", (t) => {
  t.deepEqual(summarizeAttempts([a("created"), a("retry", "x"), a("reschedule", "y"), a("retry", "y"), a("created")]), {
    created: 2,
    retry: 2,
    reschedule: 1,
    commonestFailure: { message: "y", count: 2 },
  });
});

test("summarizeAttempts: a tie goes to the failure seen first; none without failures", (t) => {
  t.deepEqual(summarizeAttempts([a("retry", "x"), a("retry", "y")]).commonestFailure, { message: "x", count: 1 });
  t.deepEqual(summarizeAttempts([a("created")]), { created: 1, retry: 0, reschedule: 0 });
  t.deepEqual(summarizeAttempts([]), { created: 0, retry: 0, reschedule: 0 });
});
