import test from "ava";
import { Gi, nls } from "@nls/testkit";
import { nodeViewFromNls } from "./node-view.js";
import { capacityReason, refusalSummary } from "./reasons.js";
import type { VolumeRequest } from "./request.js";

const view = nodeViewFromNls(
  "n1",
  nls("n1", {
    vgs: [
      { name: "pool-0", allocatable: 100 * Gi },
      { name: "bad-0", allocatable: 100 * Gi, condition: "DiskFault" },
    ],
    devices: [{ name: "/dev/sdb", total: 100 * Gi }],
  }),
);
const lvm = (vgName?: string): VolumeRequest => ({ kind: "lvm", claim: "ns/a", bytes: Gi, vgName });
const device: VolumeRequest = { kind: "device", claim: "ns/d", bytes: Gi, mediaType: "ssd" };

const cases: Array<[string, VolumeRequest[], string]> = [
  ["LVM volumes in any VG", [lvm(), lvm()], "insufficient local storage (LVM)"],
  ["an LVM volume in a VG the node has", [lvm("pool-0")], "insufficient local storage (LVM)"],
  ["Device volumes", [device], "insufficient local storage (Device)"],
  ["both kinds", [lvm(), device], "insufficient local storage (LVM and Device)"],
  [
    "MountPoint volumes with the others",
    [lvm(), device, { kind: "mountpoint", claim: "ns/m", bytes: Gi }],
    "insufficient local storage (LVM and Device and MountPoint)",
  ],
  ["a VG the node does not offer", [lvm(), lvm("fast-0")], "volume group fast-0 not available"],
  ["a VG the node reports as DiskFault", [lvm("bad-0")], "volume group bad-0 not available"],
];
for (const [title, requests, want] of cases) {
  test(`capacityReason: ${title}`, (t) => t.is(capacityReason(requests, view), want));
}

test("refusalSummary counts nodes per short reason and keeps the first node's numbers", (t) => {
  t.deepEqual(
    refusalSummary(
      {
        n1: "insufficient local storage (LVM)",
        n2: "insufficient local storage (LVM)",
        n3: "local storage agent not reporting",
      },
      {
        n1: "vg pool-0: need 30Gi, free 10Gi of 100Gi",
        n2: "vg pool-0: need 30Gi, free 5Gi of 100Gi",
        n3: "nls agent lease kube-system/nls-agent-n3 expired 95s ago (agent down?)",
      },
    ),
    {
      "insufficient local storage (LVM)": {
        nodes: 2,
        example: { node: "n1", detail: "vg pool-0: need 30Gi, free 10Gi of 100Gi" },
      },
      "local storage agent not reporting": {
        nodes: 1,
        example: { node: "n3", detail: "nls agent lease kube-system/nls-agent-n3 expired 95s ago (agent down?)" },
      },
    },
  );
});
