import test from "ava";
import type { MountPointToBeInited } from "@nls/api";
import { applyMountpoints } from "./apply.js";
import { NLS_FS_LABEL } from "./mountpoints.js";
import { describeInitPlan, planInit } from "./plan.js";
import { disk, emptyFacts, fail, fakeRunner, fixture, ok, recordedFacts } from "../../testing/fake-host.js";

const CTX = { mountRoot: "/mnt" };
const plan1 = async (mp: MountPointToBeInited, ctx = CTX) =>
  planInit({ mountpoints: [mp] }, await recordedFacts(), ctx).mountpoints![0]!;
/** The recorded host's own mount root, where mount points already exist. */
const RECORDED_ROOT = { mountRoot: "/tmp/nlsrec/mnt/open-local" };

test("mount point plan: a clean device gets a labelled filesystem, then is mounted", async (t) => {
  t.deepEqual(await plan1({ path: "/mnt/open-local/disk-1", device: "/dev/loop5" }), {
    path: "/mnt/open-local/disk-1",
    device: "/dev/loop5",
    fsType: "ext4",
    options: [],
    action: "create",
    reasons: [],
    commands: [
      { cmd: "mkfs.ext4", args: ["-q", "-L", NLS_FS_LABEL, "--", "/dev/loop5"] },
      { cmd: "mount", args: ["-t", "ext4", "--", "/dev/loop5", "/mnt/open-local/disk-1"] },
    ],
  });
  const xfs = await plan1({ path: "/mnt/d", device: "/dev/loop5", fsType: "xfs", options: ["noatime", "discard"] });
  t.deepEqual(xfs.commands, [
    { cmd: "mkfs.xfs", args: ["-q", "-L", NLS_FS_LABEL, "--", "/dev/loop5"] },
    { cmd: "mount", args: ["-t", "xfs", "-o", "noatime,discard", "--", "/dev/loop5", "/mnt/d"] },
  ]);
});

test("mount point plan: already mounted there is left alone", async (t) => {
  const p = await plan1({ path: "/tmp/nlsrec/mnt/open-local/a", device: "/dev/loop0" }, RECORDED_ROOT);
  t.deepEqual([p.action, p.commands], ["exists", []]);
  // Outside --mount-root it is not nls' mount point, mounted or not.
  const outside = await plan1({ path: "/tmp/nlsrec/mnt/open-local/a", device: "/dev/loop0" });
  t.is(outside.action, "refused");
  t.regex(outside.reasons[0]!, /must be below --mount-root \/mnt$/);
});

const refusals: Array<[string, MountPointToBeInited, RegExp[], { mountRoot: string }?]> = [
  ["a device mounted elsewhere", { path: "/mnt/x", device: "/dev/loop0" }, [/loop0: is mounted at/]],
  ["a partition table", { path: "/mnt/x", device: "/dev/loop1" }, [/loop1: carries partition table dos/]],
  ["an LVM PV", { path: "/mnt/x", device: "/dev/loop2" }, [/loop2: is a physical volume of VG nlsrec/]],
  [
    "a path that is already a mount point",
    { path: "/tmp/nlsrec/mnt/open-local/b", device: "/dev/loop5" },
    [/is already a mount point of \/dev\/vda/],
    RECORDED_ROOT,
  ],
  [
    "a path outside --mount-root",
    { path: "/var/lib/docker", device: "/dev/loop5" },
    [/^\/var\/lib\/docker: mount path must be below --mount-root \/mnt$/],
  ],
  ["--mount-root itself", { path: "/mnt", device: "/dev/loop5" }, [/must be below --mount-root/]],
  ["a sibling sharing the prefix", { path: "/mntx/a", device: "/dev/loop5" }, [/must be below --mount-root/]],
  ["a relative path", { path: "mnt/x", device: "/dev/loop5" }, [/must be absolute/]],
  [
    "the root",
    { path: "/", device: "/dev/loop5" },
    [/normalised absolute path/, /already a mount point of \/dev\/vda/],
  ],
  ["a path with ..", { path: "/mnt/../etc", device: "/dev/loop5" }, [/normalised absolute path/]],
  [
    "an unsupported fsType",
    { path: "/mnt/x", device: "/dev/loop5", fsType: "btrfs" },
    [/fsType btrfs is not supported/],
  ],
  ["an option with a comma", { path: "/mnt/x", device: "/dev/loop5", options: ["ro,exec"] }, [/single mount options/]],
  ["a missing device", { path: "/mnt/x", device: "/dev/sdq" }, [/no such block device/]],
];
for (const [name, mp, reasons, ctx] of refusals) {
  test(`mount point plan: refuses ${name}`, async (t) => {
    const p = await plan1(mp, ctx);
    t.is(p.action, "refused");
    t.deepEqual(p.commands, []);
    t.is(p.reasons.length, reasons.length, p.reasons.join("\n"));
    reasons.forEach((re, i) => t.regex(p.reasons[i]!, re));
  });
}

const labelled = (type: string, label?: string) =>
  emptyFacts({
    devices: [disk("/dev/sdc")],
    candidates: ["/dev/sdc"],
    signatures: { "/dev/sdc": [{ type, offset: "0x438", ...(label ? { label } : {}) }] },
  });
const relabel: Array<[string, ReturnType<typeof labelled>, "mount" | "refused"]> = [
  ["nls' own filesystem is mounted again, not formatted", labelled("ext4", NLS_FS_LABEL), "mount"],
  ["a filesystem with another label is refused", labelled("ext4", "data"), "refused"],
  ["an unlabelled filesystem is refused", labelled("ext4"), "refused"],
  ["nls' label on another filesystem type is refused", labelled("xfs", NLS_FS_LABEL), "refused"],
];
for (const [name, facts, action] of relabel) {
  test(`mount point plan: ${name}`, (t) => {
    const p = planInit({ mountpoints: [{ path: "/mnt/d", device: "/dev/sdc", fsType: "ext4" }] }, facts, CTX)
      .mountpoints![0]!;
    t.is(p.action, action, p.reasons.join("; "));
    if (action === "mount")
      t.deepEqual(p.commands, [{ cmd: "mount", args: ["-t", "ext4", "--", "/dev/sdc", "/mnt/d"] }]);
  });
}

test("mount point plan: a device or path used twice is refused the second time", async (t) => {
  const plan = planInit(
    {
      vgs: [{ name: "pool", devices: ["/dev/loop5"] }],
      mountpoints: [
        { path: "/mnt/a", device: "/dev/loop5" },
        { path: "/mnt/b", device: "/dev/loop6" },
        { path: "/mnt/b", device: "/dev/loop7" },
      ],
    },
    await recordedFacts(),
    CTX,
  );
  t.is(plan.vgs[0]!.action, "create");
  t.deepEqual(
    plan.mountpoints!.map((p) => [p.action, p.reasons]),
    [
      ["refused", ["/dev/loop5: also listed for VG pool"]],
      ["create", []],
      ["refused", ["/mnt/b: listed twice"]],
    ],
  );
  t.deepEqual(describeInitPlan(plan), [
    "mount point /mnt/a not set up: /dev/loop5: also listed for VG pool",
    "mount point /mnt/b not set up: /mnt/b: listed twice",
  ]);
});

const createPlan = async () =>
  planInit({ mountpoints: [{ path: "/mnt/d1", device: "/dev/loop5" }] }, await recordedFacts(), CTX);

test("mount point apply: mkdir, empty check, fresh probe, mkfs, mount", async (t) => {
  const runner = fakeRunner((cmd) => (cmd === "wipefs" ? ok(fixture("wipefs-clean.json")) : ok("")));
  t.deepEqual(await applyMountpoints(await createPlan(), runner), [
    { path: "/mnt/d1", device: "/dev/loop5", result: "created" },
  ]);
  t.deepEqual(
    runner.calls.map((c) => [c.cmd, ...c.args].join(" ")),
    [
      "mkdir -p -- /mnt/d1",
      "ls -A -- /mnt/d1",
      "wipefs -n -J -- /dev/loop5",
      `mkfs.ext4 -q -L ${NLS_FS_LABEL} -- /dev/loop5`,
      "mount -t ext4 -- /dev/loop5 /mnt/d1",
    ],
  );
});

test("mount point apply: files in the path stop it before mkfs", async (t) => {
  const runner = fakeRunner((cmd) => (cmd === "ls" ? ok("lost+found\nimportant.db\n") : ok("")));
  const [out] = await applyMountpoints(await createPlan(), runner);
  t.deepEqual(out, {
    path: "/mnt/d1",
    device: "/dev/loop5",
    result: "failed",
    reason: "/mnt/d1 is not empty; refusing to mount over its files",
  });
  t.false(runner.calls.some((c) => c.cmd.startsWith("mkfs") || c.cmd === "mount"));
});

test("mount point apply: a signature that appeared since the scan stops mkfs", async (t) => {
  const runner = fakeRunner((cmd) =>
    cmd === "wipefs" ? ok(JSON.stringify({ signatures: [{ device: "loop5", offset: "0x0", type: "xfs" }] })) : ok(""),
  );
  const [out] = await applyMountpoints(await createPlan(), runner);
  t.is(out!.reason, "/dev/loop5 carries a signature since the scan; not formatted");
  t.false(runner.calls.some((c) => c.cmd.startsWith("mkfs")));
});

test("mount point apply: remount of nls' filesystem runs no mkfs; failures are reported", async (t) => {
  const plan = planInit({ mountpoints: [{ path: "/mnt/d", device: "/dev/sdc" }] }, labelled("ext4", NLS_FS_LABEL), CTX);
  const runner = fakeRunner((cmd) => (cmd === "mount" ? fail("mount: /mnt/d: wrong fs type", 32) : ok("")));
  t.deepEqual(await applyMountpoints(plan, runner), [
    {
      path: "/mnt/d",
      device: "/dev/sdc",
      result: "failed",
      reason: "mount failed (exit 32): mount: /mnt/d: wrong fs type",
    },
  ]);
  t.deepEqual(
    runner.calls.map((c) => c.cmd),
    ["mkdir", "ls", "mount"],
  );
});
