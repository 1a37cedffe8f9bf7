import test from "ava";
import { Gi } from "@nls/testkit";
import type { Simulation } from "@nls/extender";
import { renderWhatIf } from "./render.js";

const sim: Simulation = {
  strategy: "binpack",
  nodes: ["a", "b"],
  pods: [
    {
      pod: "pod-1",
      volumes: [{ claim: "x/1", bytes: 30 * Gi, storageClass: "lvm", vg: "pool-0" }],
      node: "a",
      refusals: [],
    },
    {
      pod: "pod-2",
      volumes: [{ claim: "x/2", bytes: 30 * Gi, storageClass: "lvm", vg: "pool-0" }],
      node: "a",
      refusals: [],
    },
    {
      pod: "pod-3",
      volumes: [{ claim: "x/3", bytes: 30 * Gi, storageClass: "lvm" }],
      refusals: [{ reason: "vg pool-0: need 30Gi, free 10Gi of 70Gi", nodes: ["a", "b"] }],
    },
  ],
  capacity: [
    { node: "a", kind: "vg", name: "pool-0", capacity: 70 * Gi, before: 0, after: 60 * Gi },
    { node: "b", kind: "vg", name: "pool-0", capacity: 10 * Gi, before: 0, after: 0 },
  ],
  placed: 2,
};

test("renderWhatIf: how many fit, each VG before and after with its new volumes, why the first refused pod did not fit", (t) => {
  t.deepEqual(renderWhatIf(sim, "3x30Gi@lvm", [{ node: "c", why: "lease expired" }], false), [
    "3 pods (3x30Gi@lvm), strategy binpack, onto 2 nodes: 2 fit, 1 do not",
    "NODE    VG/DEVICE   SIZE   BEFORE   AFTER        NEW VOLUMES",
    "a       pool-0      70Gi   0 (0%)   60Gi (86%)   2",
    "b       pool-0      10Gi   0 (0%)   0 (0%)       0",
    "TOTAL               80Gi   0 (0%)   60Gi (75%)   2",
    "",
    "not placed: pod-3",
    "pod-3: fits nowhere: a, b: vg pool-0: need 30Gi, free 10Gi of 70Gi",
    "",
    "left out (the extender does not offer them now):",
    "  c: lease expired",
  ]);
});

test("renderWhatIf -o wide adds one row per pod", (t) => {
  const lines = renderWhatIf(sim, "3x30Gi@lvm", [], true);
  t.deepEqual(lines.slice(1, 5), [
    "POD     VOLUMES    NODE   VG/DEVICE",
    "pod-1   30Gi lvm   a      pool-0",
    "pod-2   30Gi lvm   a      pool-0",
    "pod-3   30Gi lvm   -      fits nowhere: a, b: vg pool-0: need 30Gi, free 10Gi of 70Gi",
  ]);
});
