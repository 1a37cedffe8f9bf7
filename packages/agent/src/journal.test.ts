import test from "ava";
import type { InitPlan } from "./init/plan.js";
import { journalProblems, nextJournal, sameIntent } from "./journal.js";
import { emptyFacts, pvFacts, vgFacts } from "../testing/fake-host.js";

const createPlan = (name: string, devices: string[]): InitPlan => ({
  vgs: [
    {
      vg: name,
      action: "create",
      devices,
      reasons: [],
      commands: [{ cmd: "vgcreate", args: ["--", name, ...devices] }],
      intent: { name, devices },
      recorded: false,
    },
  ],
});

test("journal: every VG name LVM reports is remembered, and none is forgotten", (t) => {
  const facts = emptyFacts({
    lvm: { vgs: [vgFacts("b"), vgFacts("theirs", { systemId: "other" })], lvs: [], pvs: [pvFacts("/dev/x", "c")] },
  });
  t.deepEqual(nextJournal({ seenVolumeGroups: ["a", "b"] }, facts, { vgs: [] }), {
    seenVolumeGroups: ["a", "b", "c", "theirs"],
  });
  t.deepEqual(nextJournal(undefined, emptyFacts(), { vgs: [] }), { seenVolumeGroups: [] });
  // Unread LVM changes nothing: the previous journal stands, intents included.
  const before = { seenVolumeGroups: ["a"], creating: [{ name: "p", devices: ["/dev/x"] }] };
  const unread = emptyFacts({ complete: { devices: true, lvm: false, mounts: true } });
  t.is(nextJournal(before, unread, createPlan("q", ["/dev/y"])), before);
});

test("journal: the plan's creates are recorded; an earlier record stays only while its labels are on the disks", (t) => {
  const plan = createPlan("new", ["/dev/sdc"]);
  t.deepEqual(nextJournal(undefined, emptyFacts(), plan).creating, [{ name: "new", devices: ["/dev/sdc"] }]);

  const old = { name: "gone", devices: ["/dev/sdd", "/dev/sde"] };
  const labelled = emptyFacts({ lvm: { vgs: [], lvs: [], pvs: [pvFacts("/dev/sde", "")] } });
  t.deepEqual(nextJournal({ seenVolumeGroups: [], creating: [old] }, labelled, plan).creating, [
    old,
    { name: "new", devices: ["/dev/sdc"] },
  ]);
  // No label left, or the VG exists after all (vgcreate finished): the record is done with.
  t.is(nextJournal({ seenVolumeGroups: [], creating: [old] }, emptyFacts(), { vgs: [] }).creating, undefined);
  const finished = emptyFacts({ lvm: { vgs: [vgFacts("gone")], lvs: [], pvs: [pvFacts("/dev/sde", "gone")] } });
  t.deepEqual(nextJournal({ seenVolumeGroups: [], creating: [old] }, finished, { vgs: [] }), {
    seenVolumeGroups: ["gone"],
  });
});

test("journal problems: a seen VG LVM no longer reports, and leftovers of a VG the spec dropped", (t) => {
  const facts = emptyFacts({
    lvm: { vgs: [vgFacts("here")], lvs: [], pvs: [pvFacts("/dev/sdd", ""), pvFacts("/dev/sdf", "")] },
  });
  const journal = {
    seenVolumeGroups: ["here", "pool-0"],
    creating: [
      { name: "dropped", devices: ["/dev/sdd", "/dev/sde"] },
      { name: "wanted", devices: ["/dev/sdf"] },
    ],
  };
  t.deepEqual(journalProblems(journal, facts, new Set(["wanted"])), [
    "VG pool-0 was on this node and LVM does not report it now (a disk missing or failed?); it is never created " +
      "again — if it is gone for good, remove pool-0 from status.journal.seenVolumeGroups",
    "an interrupted creation of VG dropped left PV labels on /dev/sdd, and the spec no longer asks for dropped: " +
      "list it again to finish it, or remove the labels with pvremove",
  ]);
  t.deepEqual(
    journalProblems(journal, emptyFacts({ complete: { devices: true, lvm: false, mounts: true } }), new Set()),
    [],
  );
});

test("sameIntent: same VG and devices in any order", (t) => {
  t.true(sameIntent({ name: "a", devices: ["/dev/x", "/dev/y"] }, { name: "a", devices: ["/dev/y", "/dev/x"] }));
  t.false(sameIntent({ name: "a", devices: ["/dev/x"] }, { name: "b", devices: ["/dev/x"] }));
  t.false(sameIntent({ name: "a", devices: ["/dev/x"] }, { name: "a", devices: ["/dev/x", "/dev/y"] }));
});
