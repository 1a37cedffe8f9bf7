/** The facts checkPrerequisites decides from, read from this host (no change is made). */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../e2e/cluster.js";
import { KUBE_BINARIES, type HostFacts } from "./prerequisites.js";

const COMMANDS = ["lvm", "losetup", "lsblk", "wipefs", "etcd", "openssl", "kubectl"];

export async function probeHost(binDir: string, goMod: string): Promise<HostFacts> {
  const path = `${process.env.PATH ?? ""}:${binDir}`;
  const commands = new Set<string>();
  for (const c of COMMANDS) {
    if ((await run("sh", ["-c", `command -v ${c}`], { PATH: path })).exitCode === 0) commands.add(c);
  }
  const go = await run("go", ["env", "GOVERSION"]);
  const required = /^go (\S+)$/m.exec(await readFile(goMod, "utf8"))?.[1];
  if (!required) throw new Error(`${goMod} has no go line`);
  return {
    root: process.getuid?.() === 0,
    loopControl: existsSync("/dev/loop-control"),
    commands,
    kubeBinaries: new Set(KUBE_BINARIES.filter((b) => existsSync(join(binDir, b)))),
    goVersion: go.exitCode === 0 ? go.stdout.trim() : undefined,
    goRequired: required,
  };
}
