import test from "ava";
import { Gi, lease, nls, pod, pv, pvc, storageClass } from "@nls/testkit";
import { ClusterStore } from "./cache/store.js";
import { filterNodes } from "./decide.js";
import { nodeViewFromNls } from "./node-view.js";
import { podStorage } from "./request.js";
import { deviceStates } from "./routes/debug.js";

const now = Date.parse("2026-03-01T12:00:00Z");

test("node view: a device the agent reports in use is never offered, even when a status lists it as selected", (t) => {
  const view = nodeViewFromNls(
    "n1",
    nls("n1", {
      devices: [
        { name: "/dev/vdb", total: 100 * Gi, inUse: ["is a physical volume of VG pool-0"] },
        { name: "/dev/vdc", total: 100 * Gi },
        { name: "/dev/vdd", total: 50 * Gi, inUse: ["carries partition table gpt at offset 0x200"] },
        { name: "/dev/vde", total: 10 * Gi },
      ],
      // An older agent, or another writer, may still list busy devices as selected.
      selectedDevices: ["/dev/vdb", "/dev/vdc", "/dev/vdd"],
    }),
  );
  t.deepEqual(
    view.devices.map((d) => d.name),
    ["/dev/vdc"],
    "vde is free but not selected",
  );
  t.deepEqual(view.busyDevices, [
    { name: "/dev/vdb", mediaType: "ssd", total: 100 * Gi, inUse: ["is a physical volume of VG pool-0"] },
    { name: "/dev/vdd", mediaType: "ssd", total: 50 * Gi, inUse: ["carries partition table gpt at offset 0x200"] },
  ]);
});

/** A node with two free 100Gi SSDs, and a Device class. */
function deviceNode(): ClusterStore {
  const s = new ClusterStore({});
  s.applyStorageClass(storageClass("ssd", { volumeType: "Device", mediaType: "ssd" }));
  s.applyNls(
    nls("n1", {
      devices: [
        { name: "/dev/vdc", total: 100 * Gi },
        { name: "/dev/vdd", total: 100 * Gi },
      ],
    }),
  );
  s.applyLease(lease("n1", new Date(now)));
  return s;
}

/** The Device PV open-local's CSI driver writes: the device only in `volumeAttributes.Device`. */
function openLocalDevicePv(name: string, device: string, claim: { namespace: string; name: string }) {
  const v = pv(name, { node: "n1", size: "100Gi", claim });
  delete v.metadata!.annotations;
  v.spec!.csi!.volumeAttributes = { volumeType: "Device", Device: device, mediaType: "ssd" };
  return v;
}

test("a Device PV recorded the open-local way takes its device: another namespace's PVC gets the other one, then none", (t) => {
  const s = deviceNode();
  s.applyPv(openLocalDevicePv("pv-a", "/dev/vdc", { namespace: "team-a", name: "data" }));
  t.deepEqual(s.ledger.usage("n1")?.unplaced ?? 0, 0, "not counted as VG bytes");

  s.applyPvc(pvc("team-b", "db", { className: "ssd", size: "100Gi" }));
  const fits = filterNodes(podStorage(pod("team-b", "p", ["db"]), s), ["n1"], s, "binpack", now);
  t.deepEqual(
    fits.choice?.placements.map((a) => a.device),
    ["/dev/vdd"],
  );

  s.applyPv(openLocalDevicePv("pv-b", "/dev/vdd", { namespace: "team-c", name: "logs" }));
  const none = filterNodes(podStorage(pod("team-b", "p2", ["db"]), s), ["n1"], s, "binpack", now);
  t.is(none.choice, undefined);
  t.is(none.unresolvable.n1, "insufficient local storage (Device)");
  t.is(none.details.n1, "no free devices for ssd ≥ 100Gi (free devices: none)");
});

test("a device holding a bound Device PV is shown as bound, also once the agent reports it in use", (t) => {
  const s = deviceNode();
  s.applyPv(openLocalDevicePv("pv-a", "/dev/vdc", { namespace: "team-a", name: "data" }));
  t.deepEqual(deviceStates(s.node("n1")!, s.ledger), [
    { name: "/dev/vdc", kind: "device", mediaType: "ssd", total: 100 * Gi, state: "bound", claim: "pv:pv-a" },
    { name: "/dev/vdd", kind: "device", mediaType: "ssd", total: 100 * Gi, state: "free" },
  ]);
  // The pod wrote a filesystem on it: the agent now reports it in use and no longer lists it as selected.
  s.applyNls(
    nls("n1", {
      devices: [
        { name: "/dev/vdc", total: 100 * Gi, inUse: ["carries filesystem ext4 at offset 0x438"] },
        { name: "/dev/vdd", total: 100 * Gi, inUse: ["its device node is bind-mounted at /var/lib/kubelet/x"] },
      ],
      selectedDevices: [],
    }),
  );
  t.deepEqual(deviceStates(s.node("n1")!, s.ledger), [
    {
      name: "/dev/vdc",
      kind: "device",
      mediaType: "ssd",
      total: 100 * Gi,
      inUse: ["carries filesystem ext4 at offset 0x438"],
      state: "bound",
      claim: "pv:pv-a",
    },
    {
      name: "/dev/vdd",
      kind: "device",
      mediaType: "ssd",
      total: 100 * Gi,
      inUse: ["its device node is bind-mounted at /var/lib/kubelet/x"],
      state: "in use",
    },
  ]);
});
