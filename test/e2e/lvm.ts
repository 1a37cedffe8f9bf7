/**
 * Real LVM on loop devices over sparse files, for the suites and the local cluster that need a VG:
 * whether the host can, making a loop device, and removing every VG and loop device made.
 */
import { open } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./cluster.js";

/** LVs cannot be activated here (no device-mapper): every LVM command that would activate is told not to. */
export const NO_ACTIVATION = ["--config", "global { activation = 0 }"];

/** Why real LVM on loop devices cannot run here, or undefined when it can. */
export async function lvmUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "not root (real LVM on loop devices needs root)";
  if ((await run("sh", ["-c", "command -v lvm && command -v losetup"])).exitCode !== 0) return "lvm2 not installed";
  return undefined;
}

/** A loop device over a new sparse file `dir/name` of `sizeMiB`; returns the device path. */
export async function createLoopDevice(dir: string, name: string, sizeMiB: number): Promise<string> {
  const file = join(dir, name);
  const fh = await open(file, "w");
  await fh.truncate(sizeMiB * 2 ** 20);
  await fh.close();
  const r = await run("losetup", ["-f", "--show", file]);
  if (r.exitCode !== 0) throw new Error(`losetup: ${r.stderr}`);
  return r.stdout.trim();
}

/** Removes the VGs, then the PV labels and the loop devices (only these: never a name pattern). */
export async function removeVgsAndLoops(vgs: readonly string[], loops: readonly string[]): Promise<void> {
  for (const vg of vgs) await run("vgremove", [...NO_ACTIVATION, "-f", vg]);
  for (const loop of loops) {
    await run("pvremove", ["-f", loop]); // a no-op when the device is not a PV
    await run("losetup", ["-d", loop]);
  }
}
