import test from "ava";
import { Gi, lease, nls } from "@nls/testkit";
import { node, SETTINGS, stateOf } from "../../testing/state.js";
import { simulationObjects } from "./live.js";

const now = Date.parse("2026-03-01T12:00:00Z");
const vg = { vgs: [{ name: "pool-0", allocatable: 10 * Gi }] };

const cases: Array<[string, "required" | "optional", string[], string[]]> = [
  ["required: a node without a Lease and one whose Lease expired are left out", "required", ["ok"], ["late", "none"]],
  ["optional: a node without a Lease stays, an expired one is left out", "optional", ["none", "ok"], ["late"]],
];
for (const [title, leaseMode, kept, left] of cases) {
  test(`simulationObjects, ${title}`, (t) => {
    const state = stateOf(
      { nodes: ["ok", "late", "none"].map(node), nls: ["ok", "late", "none"].map((n) => nls(n, vg)) },
      [lease("ok", new Date(now - 1_000)), lease("late", new Date(now - 60_000))],
    );
    const { objects, excluded } = simulationObjects(state, { ...SETTINGS, leaseMode }, now);
    t.deepEqual(objects.nls.map((n) => n.metadata.name).sort(), kept);
    t.deepEqual(objects.nodes.map((n) => n.metadata!.name).sort(), kept);
    t.deepEqual(
      excluded.map((e) => e.node),
      left,
    );
    t.true(excluded.every((e) => e.why.includes(`nls-agent-${e.node}`)));
  });
}
