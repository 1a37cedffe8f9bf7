import test from "ava";
import { deviceUse } from "./device-use.js";
import type { HostFacts } from "./discovery/host.js";
import type { LoopDevice } from "./discovery/loops.js";
import { parseMountInfo } from "./discovery/mounts.js";
import { disk, emptyFacts, recordedFacts } from "../testing/fake-host.js";

const DEV = "24 1 0:6 / /dev rw,relatime - devtmpfs udev rw";
const ROOT = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw";
const mounts = (...lines: string[]) => parseMountInfo([DEV, ROOT, ...lines].join("\n")).mounts;
const loop = (name: string, backFile: string, backIno: number, backMajMin = "254:0"): LoopDevice => ({
  name,
  backFile,
  backIno,
  backMajMin,
});

/** Devices that carry no signature and no PV label: only the new in-use rules can find them busy. */
function facts(overrides: Partial<HostFacts>): HostFacts {
  const devices = overrides.devices ?? [];
  return emptyFacts({
    signatures: Object.fromEntries(devices.map((d) => [d.name, []])),
    ...overrides,
  });
}

const cases: Array<[string, HostFacts, string, string[]]> = [
  ["a clean disk", facts({ devices: [disk("/dev/vdc")] }), "/dev/vdc", []],
  [
    "a raw block volume: the device node bind-mounted by kubelet",
    facts({
      devices: [disk("/dev/vdc")],
      mounts: mounts(
        "45 27 0:6 /vdc /var/lib/kubelet/pods/u/volumeDevices/kubernetes.io~csi/pv-1 rw - devtmpfs udev rw",
      ),
    }),
    "/dev/vdc",
    ["its device node is bind-mounted at /var/lib/kubelet/pods/u/volumeDevices/kubernetes.io~csi/pv-1"],
  ],
  [
    "a loop device whose backing file also backs a mounted loop device",
    facts({
      devices: [disk("/dev/loop3", { type: "loop" })],
      loops: [loop("/dev/loop3", "/srv/a.img", 77), loop("/dev/loop4", "/srv/./a.img", 77)],
    }),
    "/dev/loop3",
    ["its backing file /srv/a.img also backs /dev/loop4"],
  ],
  [
    "a loop device whose backing file is bind-mounted elsewhere",
    facts({
      devices: [disk("/dev/loop3", { type: "loop" })],
      loops: [loop("/dev/loop3", "/srv/a.img", 77)],
      mounts: mounts("50 27 254:0 /srv/a.img /var/lib/app/disk rw - ext4 /dev/vda rw"),
    }),
    "/dev/loop3",
    ["its backing file /srv/a.img is also mounted at /var/lib/app/disk"],
  ],
  [
    "a loop device over a device node",
    facts({
      devices: [disk("/dev/loop3", { type: "loop" }), disk("/dev/vdc")],
      loops: [loop("/dev/loop3", "/dev/vdc", 94, "0:6")],
    }),
    "/dev/loop3",
    ["its backing file /dev/vdc is a device node"],
  ],
  [
    "kubelet's lock loop device over a published raw block volume",
    facts({
      devices: [disk("/dev/loop9", { type: "loop" })],
      mounts: mounts("45 27 0:6 /vdc /var/lib/kubelet/plugins/publish/pv-1/u rw - devtmpfs udev rw"),
      loops: [loop("/dev/loop9", "/var/lib/kubelet/plugins/publish/pv-1/u", 94, "0:6")],
    }),
    "/dev/loop9",
    [
      "its backing file /var/lib/kubelet/plugins/publish/pv-1/u is a device node",
      "its backing file /var/lib/kubelet/plugins/publish/pv-1/u is a bind mount",
    ],
  ],
  [
    "a disk that backs a loop device",
    facts({ devices: [disk("/dev/vdc")], loops: [loop("/dev/loop3", "/dev/vdc", 94, "0:6")] }),
    "/dev/vdc",
    ["backs loop device /dev/loop3"],
  ],
  [
    "a disk that backs a loop device through its stable name",
    facts({
      devices: [disk("/dev/vdc")],
      aliases: { "/dev/disk/by-id/virtio-x": "/dev/vdc" },
      loops: [loop("/dev/loop3", "/dev/disk/by-id/virtio-x", 94, "0:6")],
    }),
    "/dev/vdc",
    ["backs loop device /dev/loop3"],
  ],
  [
    "a disk whose bind-mounted node backs kubelet's lock loop device",
    facts({
      devices: [disk("/dev/vdc")],
      mounts: mounts("45 27 0:6 /vdc /var/lib/kubelet/plugins/publish/pv-1/u rw - devtmpfs udev rw"),
      loops: [loop("/dev/loop9", "/var/lib/kubelet/plugins/publish/pv-1/u", 94, "0:6")],
    }),
    "/dev/vdc",
    ["its device node is bind-mounted at /var/lib/kubelet/plugins/publish/pv-1/u", "backs loop device /dev/loop9"],
  ],
  [
    "a loop device when loop devices could not be listed",
    facts({ devices: [disk("/dev/loop3", { type: "loop" })], loops: undefined }),
    "/dev/loop3",
    ["backing file unknown (loop devices could not be listed)"],
  ],
  [
    "a disk when loop devices could not be listed (only loop devices depend on that list)",
    facts({ devices: [disk("/dev/vdc")], loops: undefined }),
    "/dev/vdc",
    [],
  ],
  [
    "a disk a program writes to directly: no signature, no mount, only an open file descriptor",
    facts({
      devices: [disk("/dev/vdc", { majMin: "252:32" })],
      openers: [
        { pid: 4242, command: "postgres", majMins: ["252:32"] },
        { pid: 77, command: "dd", majMins: ["252:16", "252:32"] },
        { pid: 78, command: "fio", majMins: ["252:16"] },
      ],
    }),
    "/dev/vdc",
    ["is open by process 77 (dd), 4242 (postgres)"],
  ],
  [
    "a disk held open by many processes names three",
    facts({
      devices: [disk("/dev/vdc", { majMin: "252:32" })],
      openers: [5, 4, 3, 2, 1].map((pid) => ({ pid, command: "app", majMins: ["252:32"] })),
    }),
    "/dev/vdc",
    ["is open by process 1 (app), 2 (app), 3 (app) and 2 more"],
  ],
  [
    "a disk when the processes could not be read",
    facts({ devices: [disk("/dev/vdc", { majMin: "252:32" })], openers: undefined }),
    "/dev/vdc",
    ["open state unknown (processes could not be read)"],
  ],
  [
    "a disk with a filesystem: its reason is the filesystem (processes are asked only about unmarked disks)",
    facts({
      devices: [disk("/dev/vdc", { majMin: "252:32" })],
      signatures: { "/dev/vdc": [{ offset: "0x438", type: "ext4" }] },
      openers: undefined,
    }),
    "/dev/vdc",
    ["carries filesystem ext4 at offset 0x438"],
  ],
];

for (const [name, f, device, reasons] of cases) {
  test(`deviceUse: ${name}`, (t) => {
    t.deepEqual(
      deviceUse(
        f.devices.find((d) => d.name === device)!,
        f,
      ),
      reasons,
    );
  });
}

test("deviceUse: the recorded host — each busy device with its reasons, the clean ones free", async (t) => {
  const f = await recordedFacts();
  const use = Object.fromEntries(
    f.candidates.map((c) => [
      c,
      deviceUse(
        f.devices.find((d) => d.name === c)!,
        f,
      ),
    ]),
  );
  t.deepEqual(use, {
    "/dev/loop0": ["is mounted at /tmp/nlsrec/mnt/open-local/a"],
    "/dev/loop1": ["carries partition table dos at offset 0x1fe"],
    "/dev/loop2": ["is a physical volume of VG nlsrec"],
    "/dev/loop3": ["is a physical volume of VG nlsrec"],
    "/dev/loop4": ["is already an LVM physical volume"],
    "/dev/loop5": [],
    "/dev/loop6": [],
    "/dev/loop7": [],
    "/dev/vda": ["is mounted at /tmp/nlsrec/mnt/open-local/b, /"],
  });
});
