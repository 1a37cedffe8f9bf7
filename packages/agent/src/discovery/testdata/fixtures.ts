import { readFileSync } from "node:fs";
import { discoverHost, type HostFacts } from "../host.js";
import type { BlockDevice } from "../lsblk.js";
import type { CommandResult, CommandRunner } from "../run.js";

/** Reads a recorded output from this folder (see README.md for how each was recorded). */
export function fixture(name: string): string {
  return readFileSync(new URL(name, import.meta.url), "utf8");
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

/** A host with nothing on it; tests fill in what they need. */
export function emptyFacts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    devices: [],
    candidates: [],
    signatures: {},
    probeErrors: {},
    mounts: [],
    mountPoints: [],
    lvm: { pvs: [], vgs: [], lvs: [] },
    complete: { devices: true, lvm: true, mounts: true },
    errors: [],
    commandsRun: 0,
    commandErrors: 0,
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

/** The recorded VM state (lsblk, lvm fullreport, wipefs, mountinfo) run through `discoverHost`. */
export async function recordedFacts(deviceGlobs = ["/dev/loop*", "/dev/vd*"]): Promise<HostFacts> {
  const runner = fakeRunner((cmd) => {
    if (cmd === "lsblk") return ok(fixture("lsblk.json"));
    if (cmd === "lvm") return ok(fixture("lvm-fullreport.json"));
    if (cmd === "wipefs") return ok(fixture("wipefs-batch.json"));
    return fail(`${cmd}: not expected`, 127);
  });
  return discoverHost(runner, {
    deviceGlobs,
    mountRoot: "/nonexistent/mnt",
    mountInfoPath: new URL("mountinfo.txt", import.meta.url).pathname,
  });
}
