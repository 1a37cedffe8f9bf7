import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { describeOpeners, rdevToMajMin, readDeviceOpeners } from "./openers.js";

const rdevs: Array<[string, number, string]> = [
  ["a loop device", 0x0703, "7:3"],
  ["an NVMe namespace (major above 255)", (259 << 8) | 1, "259:1"],
  ["a minor above 255 (its high bits sit above the major)", (8 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12), "8:300"],
  ["a major above 4095 (its high bits sit at bit 32)", 4096 * 2 ** 32 + 5, "4096:5"],
];
for (const [name, rdev, majMin] of rdevs) {
  test(`rdevToMajMin: ${name}`, (t) => t.is(rdevToMajMin(rdev), majMin));
}

test("describeOpeners: only the processes holding that device, by pid", (t) => {
  const openers = [
    { pid: 900, command: "qemu-system-x86", majMins: ["8:16"] },
    { pid: 12, command: "dd", majMins: ["8:0", "8:16"] },
  ];
  t.deepEqual(describeOpeners(openers, "8:16"), ["is open by process 12 (dd), 900 (qemu-system-x86)"]);
  t.deepEqual(describeOpeners(openers, "8:0"), ["is open by process 12 (dd)"]);
  t.deepEqual(describeOpeners(openers, "8:32"), []);
});

/** A procfs laid out as the kernel does, with descriptors that are not block devices. */
async function fakeProc(t: { teardown: (f: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), "nls-proc-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "regular-file"), "");
  await mkdir(join(dir, "100", "fd"), { recursive: true });
  await writeFile(join(dir, "100", "comm"), "app\n");
  await symlink("socket:[1234]", join(dir, "100", "fd", "0"));
  await symlink(join(dir, "regular-file"), join(dir, "100", "fd", "1"));
  await symlink("/nonexistent/deleted", join(dir, "100", "fd", "2"));
  await mkdir(join(dir, "101")); // a process that ended between the listing and the read: no fd dir
  await mkdir(join(dir, "sys")); // not a process
  return dir;
}

test("readDeviceOpeners: sockets, files and ended processes hold no device", async (t) => {
  const dir = await fakeProc(t);
  t.deepEqual(await readDeviceOpeners(dir, new Set(["7:3"])), []);
});

test("readDeviceOpeners: nothing is read when no device is asked about", async (t) => {
  t.deepEqual(await readDeviceOpeners("/nonexistent/nls-proc", new Set()), []);
});

test("readDeviceOpeners: a procfs that cannot be read is an error, not 'no processes'", async (t) => {
  await t.throwsAsync(readDeviceOpeners("/nonexistent/nls-proc", new Set(["7:3"])), { code: "ENOENT" });
});
