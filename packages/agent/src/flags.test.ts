import test from "ava";
import { parseCommandPrefix, parseDeviceGlobs, parseDuration, parseInterval, parseObjectName } from "./flags.js";

const durations: { in: string; ms?: number }[] = [
  { in: "60s", ms: 60_000 },
  { in: "2m", ms: 120_000 },
  { in: "1m30s", ms: 90_000 },
  { in: "500ms", ms: 500 },
  { in: "1h", ms: 3_600_000 },
  { in: "45", ms: 45_000 },
  { in: "1.5s", ms: 1_500 },
  { in: " 30s ", ms: 30_000 },
  { in: "0s" },
  { in: "0" },
  { in: "-5s" },
  { in: "5x" },
  { in: "s" },
  { in: "1m 30s" },
  { in: "" },
  { in: "30sec" },
];
for (const c of durations) {
  test(`parseDuration(${JSON.stringify(c.in)})`, (t) => {
    if (c.ms === undefined) t.throws(() => parseDuration(c.in), { message: /invalid duration/ });
    else t.is(parseDuration(c.in), c.ms);
  });
}

test("parseDeviceGlobs: comma list, bare names under /dev, empty entries dropped", (t) => {
  t.deepEqual(parseDeviceGlobs("sd*, /dev/nvme*n*,,vd*"), ["/dev/sd*", "/dev/nvme*n*", "/dev/vd*"]);
  t.throws(() => parseDeviceGlobs(" , "), { message: /invalid device globs/ });
});

test("parseCommandPrefix splits on whitespace; empty means none", (t) => {
  t.deepEqual(parseCommandPrefix("nsenter  --mount=/proc/1/ns/mnt --"), ["nsenter", "--mount=/proc/1/ns/mnt", "--"]);
  t.deepEqual(parseCommandPrefix("  "), []);
});

const names: { in: string; ok: boolean }[] = [
  { in: "node-1", ok: true },
  { in: "ip-10-0-0-1.ec2.internal", ok: true },
  { in: "Node-1", ok: false },
  { in: "-x", ok: false },
  { in: "", ok: false },
  { in: "a_b", ok: false },
];
for (const c of names) {
  test(`parseObjectName(${JSON.stringify(c.in)})`, (t) => {
    const parse = parseObjectName("node name");
    if (c.ok) t.is(parse(c.in), c.in);
    else t.throws(() => parse(c.in), { message: /invalid node name/ });
  });
}

test("parseInterval: at least one second", (t) => {
  t.is(parseInterval("1s"), 1_000);
  t.is(parseInterval("2m"), 120_000);
  t.throws(() => parseInterval("500ms"), { message: /at least 1s/ });
  t.throws(() => parseInterval("soon"), { message: /invalid duration/ });
});
