import test from "ava";
import { LsblkParseError, parseLsblk } from "./lsblk.js";
import { fixture } from "../../testing/fake-host.js";

test("lsblk: recorded output of this VM (loop devices, root disk, zram)", (t) => {
  const devices = parseLsblk(fixture("lsblk.json"));
  t.deepEqual(
    devices.map((d) => d.name),
    [
      "/dev/loop0",
      "/dev/loop1",
      "/dev/loop2",
      "/dev/loop3",
      "/dev/loop4",
      "/dev/loop5",
      "/dev/loop6",
      "/dev/loop7",
      "/dev/zram0",
      "/dev/vda",
    ],
  );
  const vda = devices.find((d) => d.name === "/dev/vda")!;
  t.deepEqual(vda, {
    name: "/dev/vda",
    kname: "vda",
    majMin: "254:0",
    size: 274877906944,
    rotational: true,
    readOnly: false,
    type: "disk",
    mountpoints: ["/tmp/nlsrec/mnt/open-local/b", "/"],
    children: [],
    state: "",
  });
  const loop0 = devices.find((d) => d.name === "/dev/loop0")!;
  t.deepEqual([loop0.type, loop0.size, loop0.mountpoints], ["loop", 1073741824, ["/tmp/nlsrec/mnt/open-local/a"]]);
  t.deepEqual(devices.find((d) => d.name === "/dev/loop1")!.mountpoints, [], "[null] means not mounted");
});

test("lsblk: tree is flattened with parents, partitions and holders (NVMe, LVM, md under two disks)", (t) => {
  const devices = parseLsblk(fixture("lsblk-tree.synthetic.json"));
  const by = new Map(devices.map((d) => [d.name, d]));
  t.deepEqual(by.get("/dev/nvme0n1")!.children, [
    { name: "/dev/nvme0n1p1", type: "part" },
    { name: "/dev/nvme0n1p2", type: "part" },
  ]);
  t.is(by.get("/dev/nvme0n1p1")!.parent, "/dev/nvme0n1");
  t.deepEqual(by.get("/dev/nvme0n1p2")!.children, [{ name: "/dev/mapper/vg0-root", type: "lvm" }]);
  t.is(by.get("/dev/mapper/vg0-root")!.kname, "dm-0");
  t.deepEqual(by.get("/dev/sda")!.children, [{ name: "/dev/md0", type: "raid1" }]);
  t.deepEqual(by.get("/dev/sdb")!.children, [{ name: "/dev/md0", type: "raid1" }]);
  t.is(devices.filter((d) => d.name === "/dev/md0").length, 1, "md0 listed once");
  t.is(by.get("/dev/sdb")!.state, "offline");
  t.false(by.get("/dev/nvme1n1")!.rotational);
});

test("lsblk: pre-2.33 string values, MOUNTPOINT and missing PATH", (t) => {
  const devices = parseLsblk(fixture("lsblk-tree.synthetic.json"));
  const xvdf = devices.find((d) => d.kname === "xvdf")!;
  t.deepEqual(
    [xvdf.name, xvdf.size, xvdf.rotational, xvdf.readOnly, xvdf.mountpoints],
    ["/dev/xvdf", 10737418240, false, true, []],
  );
  const sr0 = devices.find((d) => d.kname === "sr0")!;
  t.deepEqual([sr0.rotational, sr0.readOnly], [true, true]);
});

const bad: Array<[string, string, RegExp]> = [
  ["not JSON", "lsblk: unknown column", /not JSON/],
  ["no blockdevices", `{"devices": []}`, /no "blockdevices"/],
  ["no name", `{"blockdevices": [{"size": 1}]}`, /without a name/],
  ["negative size", `{"blockdevices": [{"name": "sda", "size": -1}]}`, /invalid size/],
  ["size not a number", `{"blockdevices": [{"name": "sda", "size": "1G"}]}`, /invalid size/],
];
for (const [name, input, message] of bad) {
  test(`lsblk: rejects ${name}`, (t) => {
    const e = t.throws(() => parseLsblk(input), { instanceOf: LsblkParseError });
    t.regex(e!.message, message);
  });
}

test("lsblk: recorded legacy MOUNTPOINT column (util-linux < 2.37 has no MOUNTPOINTS)", (t) => {
  const devices = parseLsblk(fixture("lsblk-mountpoint-column.json"));
  t.deepEqual(
    devices.map((d) => [d.name, d.mountpoints]),
    [
      ["/dev/zram0", []],
      ["/dev/vda", ["/"]],
    ],
  );
});
