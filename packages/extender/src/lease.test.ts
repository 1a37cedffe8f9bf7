import test from "ava";
import { lease } from "@nls/testkit";
import { agentProblem, leaseExpiry } from "./lease.js";

const t0 = Date.parse("2026-01-01T00:00:00Z");

test("leaseExpiry is renewTime + leaseDurationSeconds", (t) => {
  t.is(leaseExpiry(lease("n1", new Date(t0), 40)), t0 + 40_000);
  t.is(leaseExpiry({ metadata: { name: "x" }, spec: {} }), undefined);
});

const cases: Array<[string, number | undefined, "required" | "optional", number, RegExp | undefined]> = [
  ["fresh lease", t0 + 40_000, "required", t0 + 10_000, undefined],
  ["exactly at expiry is still valid", t0 + 40_000, "required", t0 + 40_000, undefined],
  ["expired", t0 + 40_000, "required", t0 + 100_000, /lease nls-node-lease\/nls-agent-n1 expired 60s ago/],
  ["expired with optional mode still fails", t0, "optional", t0 + 1_000, /expired/],
  ["missing, required", undefined, "required", t0, /no nls agent lease nls-node-lease\/nls-agent-n1/],
  ["missing, optional", undefined, "optional", t0, undefined],
  ["unusable times", Number.NaN, "optional", t0, /has no renewTime/],
];
for (const [title, expiry, mode, now, expected] of cases) {
  test(`agentProblem: ${title}`, (t) => {
    const p = agentProblem(expiry, mode, now, "nls-node-lease/nls-agent-n1");
    if (expected) t.regex(p ?? "", expected);
    else t.is(p, undefined);
  });
}
