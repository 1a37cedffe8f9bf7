import test from "ava";
import { mountsUnder, parseMountInfo } from "./mounts.js";
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
