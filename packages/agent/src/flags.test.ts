import test from "ava";
import { parseCommandPrefix, parseDeviceGlobs, parseInterval, parseObjectName } from "./flags.js";

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
