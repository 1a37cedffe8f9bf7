import { Gi, nls } from "@nls/testkit";
import type { NodeUsage } from "../src/ledger.js";
import { nodeViewFromNls } from "../src/node-view.js";

/** Test only: a node's committed space, in GiB per VG, devices taken, and GiB not placed in a VG yet. */
export const usage = (vg: Record<string, number>, devices: string[] = [], unplaced = 0): NodeUsage => ({
  vg: new Map(Object.entries(vg).map(([k, v]) => [k, v * Gi])),
  devices: new Map(devices.map((d) => [d, "x"])),
  unplaced: unplaced * Gi,
  volumes: Object.keys(vg).length + devices.length,
});

/** Test only: node n1 with VGs pool-0 (100Gi) and pool-1 (50Gi). */
export const twoVgs = nodeViewFromNls(
  "n1",
  nls("n1", {
    vgs: [
      { name: "pool-0", allocatable: 100 * Gi },
      { name: "pool-1", allocatable: 50 * Gi },
    ],
  }),
);
