import test from "ava";
import { LvmReportParseError, isForeignVg, parseLvmReport, parseSystemId } from "./lvm-report.js";
import { fixture } from "../../testing/fake-host.js";

test("lvm: recorded fullreport (VG with three LVs, orphan PV)", (t) => {
  const r = parseLvmReport(fixture("lvm-fullreport.json"));
  t.deepEqual(
    r.vgs.map((v) => [v.name, v.size, v.free, v.extentSize, v.freeCount, v.lvCount, v.partial]),
    [["nlsrec", 2139095040, 1769996288, 4194304, 422, 3, false]],
  );
  t.deepEqual(
    r.pvs.map((p) => [p.name, p.vgName, p.size, p.free, p.missing]),
    [
      ["/dev/loop2", "nlsrec", 1069547520, 700448768, false],
      ["/dev/loop3", "nlsrec", 1069547520, 1069547520, false],
      ["/dev/loop4", "", 1073741824, 1073741824, false],
    ],
  );
  t.deepEqual(
    r.lvs.map((l) => [l.vgName, l.name, l.size, l.readOnly, l.faulty]),
    [
      ["nlsrec", "csi-abc", 54525952, false, false],
      ["nlsrec", "local-pv1", 104857600, false, false],
      ["nlsrec", "other", 209715200, false, false],
    ],
  );
});

test("lvm: recorded fullreport with a missing PV (partial VG) and a full VG", (t) => {
  const r = parseLvmReport(fixture("lvm-fullreport-partial.json"));
  const partial = r.vgs.find((v) => v.name === "nlspartial")!;
  t.is(partial.attr, "wz-pn-");
  t.true(partial.partial);
  t.is(partial.missingPvCount, 1);
  t.deepEqual(
    r.pvs.filter((p) => p.vgName === "nlspartial").map((p) => [p.name, p.missing]),
    [
      ["/dev/loop5", false],
      ["[unknown]", true],
    ],
  );
  const full = r.vgs.find((v) => v.name === "nlsrec")!;
  t.deepEqual([full.free, full.freeCount, full.partial], [0, 0, false]);
});

test("lvm: pvs + vgs + lvs reports parse to the same facts as fullreport", (t) => {
  const full = parseLvmReport(fixture("lvm-fullreport.json"));
  const split = ["pvs.json", "vgs.json", "lvs.json"].map((f) => parseLvmReport(fixture(f)));
  t.deepEqual({ pvs: split[0]!.pvs, vgs: split[1]!.vgs, lvs: split[2]!.lvs }, full);
});

test("lvm: attribute flags (read-only VG and LV, partial LV, bad health)", (t) => {
  const json = JSON.stringify({
    report: [
      {
        vg: [{ vg_name: "ro", vg_attr: "r-z--n-", vg_size: "8", vg_free: "0" }],
        lv: [
          { lv_name: "a", vg_name: "ro", lv_size: "4", lv_attr: "-ri-a-----" },
          { lv_name: "b", vg_name: "ro", lv_size: "4", lv_attr: "-wi-a---p-" },
          { lv_name: "c", vg_name: "ro", lv_size: "4", lv_attr: "rwi-a-r---", lv_health_status: "refresh needed" },
        ],
      },
    ],
  });
  const r = parseLvmReport(json);
  t.true(r.vgs[0]!.readOnly);
  t.deepEqual(
    r.lvs.map((l) => [l.name, l.readOnly, l.faulty]),
    [
      ["a", true, false],
      ["b", false, true],
      ["c", false, true],
    ],
  );
});

const bad: Array<[string, string, RegExp]> = [
  ["not JSON", "  Volume group not found", /not JSON/],
  ["no report", `{"reports": []}`, /no "report"/],
  [
    "sizes with suffix (--nosuffix forgotten)",
    `{"report":[{"vg":[{"vg_name":"a","vg_size":"1.00g","vg_free":"0"}]}]}`,
    /not a byte count/,
  ],
  ["VG without name", `{"report":[{"vg":[{"vg_size":"1","vg_free":"0"}]}]}`, /without vg_name/],
  ["vg not a list", `{"report":[{"vg":{}}]}`, /not an array/],
];
for (const [name, input, message] of bad) {
  test(`lvm: rejects ${name}`, (t) => {
    const e = t.throws(() => parseLvmReport(input), { instanceOf: LvmReportParseError });
    t.regex(e!.message, message);
  });
}

test("lvm: recorded fullreport of a host without any PV", (t) => {
  t.deepEqual(parseLvmReport(fixture("lvm-fullreport-empty.json")), { pvs: [], vgs: [], lvs: [] });
});

test("lvm: recorded fullreport --foreign (another host's VG and a local one) and who may use them", (t) => {
  const r = parseLvmReport(fixture("lvm-fullreport-foreign.json"));
  t.deepEqual(
    r.vgs.map((v) => [v.name, v.systemId]),
    [
      ["nlsforeign", "otherhost"],
      ["nlslocal", ""],
    ],
  );
  t.deepEqual(
    r.pvs.map((p) => [p.name, p.vgName]),
    [
      ["/dev/loop0", "nlsforeign"],
      ["/dev/loop1", "nlslocal"],
    ],
  );
  const [foreign, local] = r.vgs;
  t.deepEqual(
    [isForeignVg(foreign!, ""), isForeignVg(foreign!, "otherhost"), isForeignVg(foreign!, "thishost")],
    [true, false, true],
  );
  t.deepEqual([isForeignVg(local!, ""), isForeignVg(local!, "thishost")], [false, false]);
});

test("lvm systemid: recorded (none configured), a configured one, and output without the line", (t) => {
  t.is(parseSystemId(fixture("lvm-systemid.txt")), "");
  t.is(parseSystemId("  system ID: otherhost\n"), "otherhost");
  t.throws(() => parseSystemId("  WARNING: locking failed\n"), { instanceOf: LvmReportParseError });
});
