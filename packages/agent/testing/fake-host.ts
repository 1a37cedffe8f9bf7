import { readFileSync } from "node:fs";
import { discoverHost, type HostFacts } from "../src/discovery/host.js";
import type { BlockDevice } from "../src/discovery/lsblk.js";
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
    loops: [],
    complete: { devices: true, lvm: true, mounts: true },
    errors: [],
    commandsRun: 0,
    commandErrors: {},
    durationMs: 0,
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

type Tool = "lsblk" | "lvm" | "wipefs" | "losetup";

/** Replays the recorded VM state: each tool answers as recorded unless overridden; anything else fails. */
export function recordedRunner(overrides: Partial<Record<Tool, CommandResult>> = {}) {
  const recorded: Record<Tool, string> = {
    lsblk: "lsblk.json",
    lvm: "lvm-fullreport.json",
    wipefs: "wipefs-batch.json",
    losetup: "losetup.json",
  };
  return fakeRunner((cmd) => {
    const tool = cmd as Tool;
    if (overrides[tool]) return overrides[tool];
    if (tool in recorded) return ok(fixture(recorded[tool]));
    return fail(`${cmd}: not expected`, 127);
  });
}

/** The recorded VM state (lsblk, lvm fullreport, wipefs, losetup, mountinfo) run through `discoverHost`. */
export async function recordedFacts(deviceGlobs = ["/dev/loop*", "/dev/vd*"]): Promise<HostFacts> {
  return discoverHost(recordedRunner(), {
    aliasDirs: [],
    deviceGlobs,
    mountRoot: "/nonexistent/mnt",
    mountInfoPath: RECORDED_MOUNTINFO,
  });
}
