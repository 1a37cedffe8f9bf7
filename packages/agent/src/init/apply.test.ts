import test from "ava";
import { applyInit } from "./apply.js";
import type { InitPlan } from "./plan.js";
import { fail, fakeRunner, ok } from "../../testing/fake-host.js";

const plan: InitPlan = {
  vgs: [
    {
      vg: "pool-0",
      action: "create",
      devices: ["/dev/sdb", "/dev/sdc"],
      reasons: [],
      commands: [
        { cmd: "pvcreate", args: ["--", "/dev/sdb"] },
        { cmd: "pvcreate", args: ["--", "/dev/sdc"] },
        { cmd: "vgcreate", args: ["--", "pool-0", "/dev/sdb", "/dev/sdc"] },
      ],
    },
    { vg: "pool-1", action: "exists", devices: ["/dev/sdd"], reasons: [], commands: [] },
    { vg: "pool-2", action: "refused", devices: ["/dev/sde"], reasons: ["/dev/sde: is mounted at /x"], commands: [] },
  ],
};

test("apply: runs exactly the planned commands for create; nothing for exists or refused", async (t) => {
  const runner = fakeRunner(() => ok(""));
  t.deepEqual(await applyInit(plan, runner), [
    { vg: "pool-0", result: "created", devices: ["/dev/sdb", "/dev/sdc"] },
    { vg: "pool-1", result: "exists", devices: ["/dev/sdd"] },
    { vg: "pool-2", result: "refused", reason: "/dev/sde: is mounted at /x", devices: ["/dev/sde"] },
  ]);
  t.deepEqual(runner.calls, plan.vgs[0]!.commands);
  t.false(
    runner.calls.some((c) => c.args.some((a) => /^-(f|y|-force|-yes)/.test(a))),
    "never forced",
  );
});

test("apply: a pvcreate that stops at a prompt fails the VG and undoes only the labels written", async (t) => {
  const runner = fakeRunner((cmd, args) =>
    cmd === "pvcreate" && args.at(-1) === "/dev/sdc"
      ? fail(
          "WARNING: ext4 signature detected on /dev/sdc at offset 1080. Wipe it? [y/n]: [n]\n  Aborted wiping of ext4.\n  1 existing signature left on the device.",
          5,
        )
      : ok(""),
  );
  const [out] = await applyInit({ vgs: [plan.vgs[0]!] }, runner);
  t.is(out!.result, "failed");
  t.regex(
    out!.reason!,
    /^pvcreate failed \(exit 5\): WARNING: ext4 signature detected.*; removed the PV labels just written on \/dev\/sdb$/,
  );
  t.deepEqual(
    runner.calls.map((c) => [c.cmd, ...c.args].join(" ")),
    ["pvcreate -- /dev/sdb", "pvcreate -- /dev/sdc", "pvremove -- /dev/sdb"],
  );
});

test("apply: vgcreate failure removes both new PV labels; a failing undo is reported too", async (t) => {
  const runner = fakeRunner((cmd) =>
    cmd === "vgcreate"
      ? fail("  A volume group called pool-0 already exists.", 5)
      : cmd === "pvremove"
        ? fail("locked", 5)
        : ok(""),
  );
  const [out] = await applyInit({ vgs: [plan.vgs[0]!] }, runner);
  t.is(out!.result, "failed");
  t.is(
    out!.reason,
    "vgcreate failed (exit 5): A volume group called pool-0 already exists.; removing the PV labels just written also failed: pvremove failed (exit 5): locked",
  );
  t.deepEqual(runner.calls.at(-1), { cmd: "pvremove", args: ["--", "/dev/sdb", "/dev/sdc"] });
});

test("apply: the first pvcreate failing leaves nothing to undo", async (t) => {
  const runner = fakeRunner(() => fail("Device /dev/sdb not found.", 5));
  const [out] = await applyInit({ vgs: [plan.vgs[0]!] }, runner);
  t.is(out!.reason, "pvcreate failed (exit 5): Device /dev/sdb not found.");
  t.is(runner.calls.length, 1);
});
