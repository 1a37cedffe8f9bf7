import type { Command } from "commander";
import { addFlags, buildInfo, rootCommand, readFlags, versionText, usageError, type FlagValues } from "@nls/daemon";
import { DAEMON_FLAGS } from "./flags.js";
import { registerScanCommand } from "./scan.js";

/** The version of nls and the commit this build comes from (dist/build-info.json). */
export const BUILD = buildInfo(
  new URL("./build-info.json", import.meta.url),
  new URL("../package.json", import.meta.url),
);
export const VERSION = BUILD.version;

export type DaemonOptions = FlagValues<typeof DAEMON_FLAGS> & { nodeName: string };

/** `nls-agent`: the daemon (no command) and `scan`; `runDaemon` gets the parsed flags and returns the exit code. */
export function buildProgram(runDaemon: (opts: DaemonOptions) => Promise<number>): Command {
  const program = rootCommand(
    "nls-agent",
    "nls node agent: keeps this node's NodeLocalStorage true (disks, LVM, selection), creates the VGs its spec asks " +
      "for without touching devices that hold data, renews its Lease and serves /healthz, /readyz and /metrics.",
    versionText(BUILD),
  )
    // Options after `scan` belong to `scan` (it has its own --devices, --lv-prefix, …).
    .enablePositionalOptions();
  addFlags(program, DAEMON_FLAGS).action(async (_opts: unknown, cmd: Command) => {
    const opts = readFlags(cmd, DAEMON_FLAGS);
    if (!opts.nodeName) usageError(cmd, "--node-name (or NODE_NAME) is required to run the daemon");
    process.exitCode = await runDaemon({ ...opts, nodeName: opts.nodeName });
  });
  registerScanCommand(program);
  return program;
}
