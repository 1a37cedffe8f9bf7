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
      commands: [{ cmd: "vgcreate", args: ["--", "pool-0", "/dev/sdb", "/dev/sdc"] }],
      intent: { name: "pool-0", devices: ["/dev/sdb", "/dev/sdc"] },
      recorded: true,
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

test("apply: a vgcreate that stops at its wipe prompt fails the VG with LVM's words, and nothing else runs", async (t) => {
  const runner = fakeRunner(() =>
    fail(
      "WARNING: ext4 signature detected on /dev/sdc at offset 1080. Wipe it? [y/n]: [n]\n  Aborted wiping of ext4.\n  1 existing signature left on the device.",
      5,
    ),
  );
  const [out] = await applyInit({ vgs: [plan.vgs[0]!] }, runner);
  t.is(out!.result, "failed");
  t.regex(out!.reason!, /^vgcreate failed \(exit 5\): WARNING: ext4 signature detected.*Aborted wiping of ext4/);
  t.is(runner.calls.length, 1);
});

test("apply: a create whose intent the journal does not hold yet runs nothing and is pending", async (t) => {
  const runner = fakeRunner(() => ok(""));
  const unrecorded = { ...plan.vgs[0]!, recorded: false };
  t.deepEqual(await applyInit({ vgs: [unrecorded] }, runner), [
    { vg: "pool-0", result: "pending", devices: ["/dev/sdb", "/dev/sdc"] },
  ]);
  t.deepEqual(runner.calls, []);
});
