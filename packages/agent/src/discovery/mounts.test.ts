import test from "ava";
import { bindMountsOfFile, deviceNodeBinds, mountsUnder, parseMountInfo } from "./mounts.js";
import { fixture } from "../../testing/fake-host.js";

test("mountinfo: recorded file (root, a loop device, a bind mount of a subdirectory)", (t) => {
  const { mounts, malformed } = parseMountInfo(fixture("mountinfo.txt"));
  t.deepEqual(malformed, []);
  const root = mounts.find((m) => m.path === "/")!;
  t.deepEqual([root.majMin, root.fsType, root.source, root.root], ["254:0", "ext4", "/dev/vda", "/"]);
  const loop = mounts.find((m) => m.path === "/tmp/nlsrec/mnt/open-local/a")!;
  t.deepEqual(
    [loop.majMin, loop.source, loop.options, loop.readOnly],
    ["7:0", "/dev/loop0", ["rw", "relatime"], false],
  );
  const bind = mounts.find((m) => m.path === "/tmp/nlsrec/mnt/open-local/b")!;
  t.is(bind.root, "/tmp/nlsrec/src");
  t.true(mounts.find((m) => m.path === "/mnt/sandboxing/model_tools_env/v1/python")!.readOnly);
});

test("mountinfo: optional fields, octal escapes, malformed lines", (t) => {
  const text = [
    "36 35 98:0 /mnt1 /mnt/open-local/disk\\0401 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue",
    "garbage line",
    "",
  ].join("\n");
  const { mounts, malformed } = parseMountInfo(text);
  t.deepEqual(malformed, ["garbage line"]);
  t.deepEqual(mounts, [
    {
      path: "/mnt/open-local/disk 1",
      majMin: "98:0",
      root: "/mnt1",
      fsType: "ext3",
      source: "/dev/root",
      options: ["rw", "noatime"],
      readOnly: false,
    },
  ]);
});

test("mountsUnder: strictly below the root, last mount of a path wins, sorted", (t) => {
  const m = (path: string, source: string) => ({
    path,
    source,
    majMin: "0:0",
    root: "/",
    fsType: "ext4",
    options: ["rw"],
    readOnly: false,
  });
  const mounts = [
    m("/mnt/open-local", "/dev/x"),
    m("/mnt/open-local/disk-2", "/dev/b"),
    m("/mnt/open-local/disk-1", "/dev/a"),
    m("/mnt/open-localx/disk-1", "/dev/c"),
    m("/mnt/open-local/disk-2", "/dev/d"),
  ];
  t.deepEqual(
    mountsUnder(mounts, "/mnt/open-local/").map((x) => [x.path, x.source]),
    [
      ["/mnt/open-local/disk-1", "/dev/a"],
      ["/mnt/open-local/disk-2", "/dev/d"],
    ],
  );
  t.deepEqual(mountsUnder(mounts, "/"), [], "the filesystem root is not a mount root");
});

/** Lines as this kernel wrote them for `mount --bind /dev/loop0 …/node` and `mount --bind a.img …/f2`. */
const BINDS = [
  "24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12358300k,nr_inodes=3089575,mode=755",
  "25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24731708k",
  "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard",
  "42 27 0:6 /loop0 /tmp/t/node/x rw,relatime - devtmpfs devtmpfs rw,size=12358300k,nr_inodes=3089575,mode=755",
  "43 27 254:0 /tmp/t/a.img /tmp/t/f2 rw,relatime - ext4 /dev/vda rw,discard",
  "44 27 254:0 /srv /srv-bind rw,relatime - ext4 /dev/vda rw,discard",
  // kubelet publishing a raw block volume (the host's /dev is devtmpfs "udev")
  "45 27 0:6 /vdc /var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/pv-1/uid rw - devtmpfs udev rw",
  "46 27 0:6 /vdc /var/lib/kubelet/pods/uid/volumeDevices/kubernetes.io~csi/pv-1 rw - devtmpfs udev rw",
].join("\n");

test("deviceNodeBinds: bind mounts of device nodes, by device path; /dev itself and /dev/shm are not", (t) => {
  const { mounts } = parseMountInfo(BINDS);
  t.deepEqual(
    [...deviceNodeBinds(mounts)],
    [
      ["/dev/loop0", ["/tmp/t/node/x"]],
      [
        "/dev/vdc",
        [
          "/var/lib/kubelet/plugins/kubernetes.io/csi/volumeDevices/publish/pv-1/uid",
          "/var/lib/kubelet/pods/uid/volumeDevices/kubernetes.io~csi/pv-1",
        ],
      ],
    ],
  );
  // A container's /dev on tmpfs: its nodes are recognised by the filesystem mounted at /dev.
  const container = parseMountInfo(
    [
      "100 99 0:50 / /dev rw - tmpfs tmpfs rw",
      "101 99 0:50 /sdb /host/raw rw - tmpfs tmpfs rw",
      "102 99 0:51 /sdb /elsewhere rw - tmpfs tmpfs rw",
    ].join("\n"),
  ).mounts;
  t.deepEqual([...deviceNodeBinds(container)], [["/dev/sdb", ["/host/raw"]]]);
  t.deepEqual([...deviceNodeBinds(parseMountInfo(fixture("mountinfo.txt")).mounts)], []);
});

test("bindMountsOfFile: a file bind-mounted elsewhere, a file that is itself a bind mount, a file used nowhere", (t) => {
  const { mounts } = parseMountInfo(BINDS);
  t.deepEqual(bindMountsOfFile(mounts, "/tmp/t/a.img", "254:0"), ["/tmp/t/f2"]);
  t.deepEqual(bindMountsOfFile(mounts, "/tmp/t/f2", "254:0"), ["/tmp/t/f2"]);
  t.deepEqual(bindMountsOfFile(mounts, "/tmp/t/b.img", "254:0"), []);
  // Reached through a bind mount of its directory, the file is still found by its path in the filesystem.
  const viaDir = parseMountInfo([BINDS, "47 27 254:0 /srv/img.raw /mnt/img rw - ext4 /dev/vda rw"].join("\n"));
  t.deepEqual(bindMountsOfFile(viaDir.mounts, "/srv-bind/img.raw", "254:0"), ["/mnt/img"]);
  t.deepEqual(bindMountsOfFile(mounts, "/tmp/t/a.img", "9:9"), [], "another filesystem's inode space");
});
