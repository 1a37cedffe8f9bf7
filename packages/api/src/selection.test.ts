import test from "ava";
import { describePatternErrors, select, selectStorage } from "./selection.js";

const devices = ["/dev/vda", "/dev/vdb", "/dev/vdb1", "/dev/vdb3", "/dev/vdc", "/dev/vdd", "/dev/vde", "/dev/nvme0n1"];

const cases: Array<{ name: string; include?: string[]; exclude?: string[]; want: string[] }> = [
  { name: "empty include selects nothing", include: [], want: [] },
  { name: "missing rule selects nothing", want: [] },
  {
    name: "full-match anchoring: vd[a-d]+ takes vdb, not vdb1",
    include: ["/dev/vd[a-d]+"],
    want: ["/dev/vda", "/dev/vdb", "/dev/vdc", "/dev/vdd"],
  },
  {
    name: "seed example: include vd[a-d]+, exclude vda and vdb",
    include: ["/dev/vd[a-d]+"],
    exclude: ["/dev/vda", "/dev/vdb"],
    want: ["/dev/vdc", "/dev/vdd"],
  },
  { name: "partial pattern does not match as a substring", include: ["vdb"], want: [] },
  {
    name: "several includes union, output sorted",
    include: ["/dev/vde", "/dev/nvme.*", "/dev/vdb3"],
    want: ["/dev/nvme0n1", "/dev/vdb3", "/dev/vde"],
  },
  { name: "exclude wins over include", include: [".*"], exclude: ["/dev/vd.*"], want: ["/dev/nvme0n1"] },
  { name: "explicit anchors are harmless", include: ["^/dev/vdc$"], want: ["/dev/vdc"] },
  { name: "alternation is anchored as a whole", include: ["/dev/vda|/dev/vdb"], want: ["/dev/vda", "/dev/vdb"] },
];

for (const c of cases) {
  test(`select: ${c.name}`, (t) => {
    const r = select(devices, { include: c.include, exclude: c.exclude });
    t.deepEqual(r.selected, c.want);
    t.deepEqual(r.errors, []);
  });
}

test("select: an invalid include pattern is reported and the others still work", (t) => {
  const r = select(devices, { include: ["/dev/vd(", "/dev/vdc"] });
  t.deepEqual(r.selected, ["/dev/vdc"]);
  t.is(r.errors.length, 1);
  t.like(r.errors[0], { field: "include", pattern: "/dev/vd(" });
  t.regex(r.errors[0]!.error, /missing closing \)/);
});

test("select: an invalid exclude pattern selects nothing (fail closed) and is reported", (t) => {
  const r = select(devices, { include: [".*"], exclude: ["/dev/vda", "(?P<x"] });
  t.deepEqual(r.selected, []);
  t.like(r.errors[0], { field: "exclude", pattern: "(?P<x" });
});

test("select: backreferences are not RE2 and are rejected, not thrown", (t) => {
  const r = select(["aa"], { include: ["(a)\\1"] });
  t.deepEqual(r.selected, []);
  t.regex(r.errors[0]!.error, /invalid escape/);
});

test("select: catastrophic-backtracking patterns run in linear time (RE2)", (t) => {
  const r = select(["a".repeat(5000) + "!"], { include: ["(a+)+$"] });
  t.deepEqual(r.selected, []);
});

test("select: duplicates collapse", (t) => {
  t.deepEqual(select(["b", "a", "b"], { include: [".*"] }).selected, ["a", "b"]);
});

test("selectStorage applies the three lists and names the list of each error", (t) => {
  const r = selectStorage(
    {
      devices: { include: ["/dev/vd[a-d]+"], exclude: ["/dev/vda", "/dev/vdb"] },
      vgs: { include: ["open-local-pool-[0-9]+", "bad["] },
      mountPoints: { include: ["/mnt/open-local/.*"] },
    },
    {
      devices,
      vgs: ["open-local-pool-1", "open-local-pool-0", "system"],
      mountPoints: ["/mnt/open-local/a", "/"],
    },
  );
  t.deepEqual(r.devices, ["/dev/vdc", "/dev/vdd"]);
  t.deepEqual(r.volumeGroups, ["open-local-pool-0", "open-local-pool-1"]);
  t.deepEqual(r.mountPoints, ["/mnt/open-local/a"]);
  t.is(r.errors.length, 1);
  t.like(r.errors[0], { list: "vgs", field: "include", pattern: "bad[" });
  t.regex(describePatternErrors(r.errors), /^listConfig\.vgs\.include: invalid pattern "bad\[": /);
});
