import { readFileSync } from "node:fs";
import { discoverHost, type HostFacts } from "../src/discovery/host.js";
import type { BlockDevice } from "../src/discovery/lsblk.js";
import type { PhysicalVolumeFacts, VolumeGroupFacts } from "../src/discovery/lvm-report.js";
import type { CommandResult, CommandRunner } from "../src/discovery/run.js";

/**
 * A host for tests: command runners that answer from recorded outputs or from a function, and builders
 * of discovery facts.
 */

/** The recorded outputs, beside the discovery tests (its README says how each was recorded). */
const TESTDATA = new URL("../src/discovery/testdata/", import.meta.url);

/** Reads a recorded output. */
export function fixture(name: string): string {
  return readFileSync(new URL(name, TESTDATA), "utf8");
}

export const ok = (stdout: string): CommandResult => ({ stdout, stderr: "", exitCode: 0 });
export const fail = (stderr: string, exitCode = 1): CommandResult => ({ stdout: "", stderr, exitCode });

/**
 * A runner that answers from a function of (cmd, args) and records every call, for asserting what was
 * run (and that nothing else was).
 */
export function fakeRunner(answer: (cmd: string, args: string[]) => CommandResult): CommandRunner & {
  calls: Array<{ cmd: string; args: string[] }>;
} {
  const calls: Array<{ cmd: string; args: string[] }> = [];
  return {
    calls,
    async run(cmd, args) {
      calls.push({ cmd, args });
      return answer(cmd, args);
    },
  };
}

export const RECORDED_MOUNTINFO = new URL("mountinfo.txt", TESTDATA).pathname;
/** A procfs without processes: what this machine's processes hold open must not change an answer. */
export const RECORDED_PROC = new URL("proc", TESTDATA).pathname;

/** A host with nothing on it; tests fill in what they need. */
export function emptyFacts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    devices: [],
    candidates: [],
    aliases: {},
    signatures: {},
    probeErrors: {},
    mounts: [],
    mountPoints: [],
    lvm: { pvs: [], vgs: [], lvs: [] },
    lvmSystemId: "",
    lvmBackups: [],
    loops: [],
    openers: [],
    complete: { devices: true, lvm: true, mounts: true },
    errors: [],
    commandsRun: 0,
    commandErrors: {},
    durationMs: 0,
    ...overrides,
  };
}

/** A VG of 1 byte with one free extent and nothing in it; tests set what they need. */
export function vgFacts(name: string, overrides: Partial<VolumeGroupFacts> = {}): VolumeGroupFacts {
  return {
    name,
    uuid: "",
    attr: "wz--n-",
    size: 1,
    free: 1,
    extentSize: 1,
    extentCount: 1,
    freeCount: 1,
    pvCount: 1,
    missingPvCount: 0,
    lvCount: 0,
    partial: false,
    readOnly: false,
    systemId: "",
    ...overrides,
  };
}

/** A 1-byte PV of `vgName` ("" for an orphan) with one metadata area; tests set what they need. */
export function pvFacts(
  name: string,
  vgName: string,
  overrides: Partial<PhysicalVolumeFacts> = {},
): PhysicalVolumeFacts {
  return {
    name,
    uuid: "",
    vgName,
    size: 1,
    free: 1,
    devSize: 1,
    attr: "a--",
    missing: false,
    mdaCount: 1,
    ...overrides,
  };
}

/** A block device with healthy defaults. */
export function disk(name: string, overrides: Partial<BlockDevice> = {}): BlockDevice {
  return {
    name,
    kname: name.replace(/^\/dev\//, ""),
    majMin: "",
    size: 10 * 2 ** 30,
    rotational: false,
    readOnly: false,
    type: "disk",
    mountpoints: [],
    children: [],
    state: "",
    ...overrides,
  };
}

/** The recorded host tools; `lvm` is the fullreport, `lvm systemid` LVM's system ID. */
type Tool = "lsblk" | "lvm" | "lvm systemid" | "wipefs" | "losetup";

const RECORDED: Record<Tool, string> = {
  lsblk: "lsblk.json",
  lvm: "lvm-fullreport.json",
  "lvm systemid": "lvm-systemid.txt",
  wipefs: "wipefs-batch.json",
  losetup: "losetup.json",
};

/** Which recorded tool a command line is. */
export const toolOf = (cmd: string, args: string[]): string =>
  cmd === "lvm" && args[0] === "systemid" ? "lvm systemid" : cmd;

/** The recorded answer of a host command, or `undefined` for a command that was not recorded. */
export function recordedAnswer(cmd: string, args: string[]): CommandResult | undefined {
  const tool = toolOf(cmd, args) as Tool;
  return tool in RECORDED ? ok(fixture(RECORDED[tool])) : undefined;
}

/** Replays the recorded VM state: each tool answers as recorded unless overridden; anything else fails. */
export function recordedRunner(overrides: Partial<Record<Tool, CommandResult>> = {}) {
  return fakeRunner((cmd, args) => {
    const tool = toolOf(cmd, args) as Tool;
    return overrides[tool] ?? recordedAnswer(cmd, args) ?? fail(`${cmd}: not expected`, 127);
  });
}

/** A directory that does not exist: tests must not read this machine's /etc/lvm/backup or /dev/disk. */
export const NO_DIR = "/nonexistent/nls-test";

/** The recorded VM state (lsblk, lvm fullreport, wipefs, losetup, mountinfo) run through `discoverHost`. */
export async function recordedFacts(deviceGlobs = ["/dev/loop*", "/dev/vd*"]): Promise<HostFacts> {
  return discoverHost(recordedRunner(), {
    aliasDirs: [],
    lvmBackupDir: NO_DIR,
    deviceGlobs,
    mountRoot: "/nonexistent/mnt",
    mountInfoPath: RECORDED_MOUNTINFO,
    procRoot: RECORDED_PROC,
  });
}
