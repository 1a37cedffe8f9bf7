import test from "ava";
import { allocationRecord, parseAllocationRecord, pvAllocation } from "./claims.js";
import { Gi, pv } from "@nls/testkit";

test("pvAllocation reads node, VG and device; ignores other drivers", (t) => {
  t.deepEqual(pvAllocation(pv("a", { node: "n1", size: "10Gi", vgName: "pool-0" })), {
    node: "n1",
    vg: "pool-0",
    bytes: 10 * Gi,
  });
  t.deepEqual(pvAllocation(pv("b", { node: "n1", size: "100Gi", device: "/dev/vdb" })), {
    node: "n1",
    device: "/dev/vdb",
    bytes: 100 * Gi,
  });
  t.is(pvAllocation(pv("c", { node: "n1", size: "1Gi", driver: "other" })), undefined);
  const attrs = pv("d", { node: "n1", size: "1Gi" });
  delete attrs.metadata!.annotations;
  attrs.spec!.csi!.volumeAttributes = { vgName: "pool-1" };
  t.deepEqual(pvAllocation(attrs), { node: "n1", vg: "pool-1", bytes: Gi });
  // What open-local's CSI driver writes for Device and MountPoint volumes: the path under the type's name.
  const device = pv("f", { node: "n1", size: "100Gi" });
  delete device.metadata!.annotations;
  device.spec!.csi!.volumeAttributes = { volumeType: "Device", Device: "/dev/vdc" };
  t.deepEqual(pvAllocation(device), { node: "n1", device: "/dev/vdc", bytes: 100 * Gi });
  const mountPoint = pv("g", { node: "n1", size: "50Gi" });
  delete mountPoint.metadata!.annotations;
  mountPoint.spec!.csi!.volumeAttributes = { volumeType: "MountPoint", MountPoint: "/mnt/open-local/disk-1" };
  t.deepEqual(pvAllocation(mountPoint), { node: "n1", mountPoint: "/mnt/open-local/disk-1", bytes: 50 * Gi });
  const broken = pv("e", { node: "n1", size: "1Gi" });
  broken.metadata!.annotations!["csi.aliyun.com/pv-allocated"] = "{nope";
  t.deepEqual(pvAllocation(broken), { node: "n1", vg: undefined, bytes: Gi });
});

test("pvAllocation: a Device PV recorded the open-local way (volumeAttributes.Device) takes its device", (t) => {
  // What open-local's CSI driver writes: no pv-allocated annotation, the device under the attribute "Device".
  const openLocal = pv("ol", { node: "n1", size: "100Gi" });
  delete openLocal.metadata!.annotations;
  openLocal.spec!.csi!.volumeAttributes = { volumeType: "Device", Device: "/dev/vdc", mediaType: "ssd" };
  t.deepEqual(pvAllocation(openLocal), { node: "n1", device: "/dev/vdc", bytes: 100 * Gi });

  // The annotation wins where it names the device; the attribute fills in what it leaves out.
  const both = pv("both", { node: "n1", size: "100Gi", device: "/dev/vdd" });
  both.spec!.csi!.volumeAttributes = { volumeType: "Device", Device: "/dev/vdc" };
  t.deepEqual(pvAllocation(both), { node: "n1", device: "/dev/vdd", bytes: 100 * Gi });
  const typeOnly = pv("t", { node: "n1", size: "100Gi" });
  typeOnly.metadata!.annotations!["csi.aliyun.com/pv-allocated"] = JSON.stringify({ volumeType: "Device" });
  typeOnly.spec!.csi!.volumeAttributes = { Device: "/dev/vdc" };
  t.deepEqual(pvAllocation(typeOnly), { node: "n1", device: "/dev/vdc", bytes: 100 * Gi });

  // A Device or MountPoint PV that names no device or path holds no VG bytes: not counted against a VG.
  for (const volumeType of ["Device", "MountPoint"]) {
    const nameless = pv("n", { node: "n1", size: "100Gi" });
    delete nameless.metadata!.annotations;
    nameless.spec!.csi!.volumeAttributes = { volumeType };
    t.is(pvAllocation(nameless), undefined, volumeType);
  }
});

test("allocation records round-trip and bad ones are ignored", (t) => {
  for (const a of [
    { node: "n1", vg: "pool-0", bytes: 5 * Gi },
    { node: "n1", device: "/dev/vdc", bytes: 7 * Gi },
    { node: "n1", mountPoint: "/mnt/open-local/disk-1", bytes: 9 * Gi },
  ]) {
    t.deepEqual(parseAllocationRecord(JSON.stringify(allocationRecord(a))), a);
  }
  for (const raw of [
    undefined,
    "",
    "nope",
    "[]",
    '{"node":"n1","volumeType":"LVM","bytes":-1,"vgName":"x"}',
    '{"node":"n1","volumeType":"LVM","bytes":1}',
    '{"node":"n1","volumeType":"MountPoint","bytes":1}',
  ]) {
    t.is(parseAllocationRecord(raw), undefined, String(raw));
  }
});

test("an LVM volume counts whole extents, as lvcreate allocates them; Device and MountPoint units do not", (t) => {
  const extent = 4 * 2 ** 20;
  t.is(pvAllocation(pv("a", { node: "n1", size: "1000M", vgName: "pool-0" }))!.bytes, 239 * extent);
  t.is(pvAllocation(pv("b", { node: "n1", size: "8Mi", vgName: "pool-0" }))!.bytes, 2 * extent);
  t.is(pvAllocation(pv("c", { node: "n1", size: "1000M", device: "/dev/vdb" }))!.bytes, 1000 * 1000 * 1000);
  t.is(parseAllocationRecord('{"node":"n1","volumeType":"LVM","vgName":"pool-0","bytes":1}')!.bytes, extent);
});
