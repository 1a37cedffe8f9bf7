import { execa } from "execa";

/**
 * The one door to the host's tools. Everything above it (parsers, inventory, init plan) is pure and is
 * tested with a fake runner or recorded outputs; only this file and the integration tests run commands.
 */

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** The tool's exit code; -1 when it could not be started or was killed (timeout). */
  exitCode: number;
}

export interface CommandRunner {
  run(cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<CommandResult>;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/**
 * The environment every host tool runs with: `LC_ALL=C` so messages and numbers are not localised,
 * `LVM_SUPPRESS_FD_WARNINGS=1` so LVM does not complain about descriptors inherited from Node.
 */
export const COMMAND_ENV: Readonly<Record<string, string>> = { LC_ALL: "C", LVM_SUPPRESS_FD_WARNINGS: "1" };

/**
 * Runs commands with execa. Never rejects: a missing binary, a timeout or a non-zero exit come back as
 * a `CommandResult` so callers decide what a failure means.
 *
 * `prefix` is prepended to every command (e.g. `["nsenter", "--mount=/proc/1/ns/mnt", "--"]` for a
 * DaemonSet that must reach the host's LVM); it is off by default.
 */
export function execaRunner(opts: { prefix?: string[]; timeoutMs?: number } = {}): CommandRunner {
  const prefix = opts.prefix ?? [];
  return {
    async run(cmd, args, runOpts = {}) {
      const [file, ...rest] = prefix.length > 0 ? [...prefix, cmd, ...args] : [cmd, ...args];
      const timeout = runOpts.timeoutMs ?? opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
      try {
        const r = await execa(file!, rest, {
          env: COMMAND_ENV,
          extendEnv: true,
          timeout,
          reject: false,
          stripFinalNewline: false,
          ...(runOpts.input !== undefined ? { input: runOpts.input } : { stdin: "ignore" as const }),
        });
        if (r.timedOut) {
          return {
            stdout: str(r.stdout),
            stderr: `${str(r.stderr)}${cmd}: timed out after ${timeout} ms`,
            exitCode: -1,
          };
        }
        if (r.exitCode === undefined) {
          // Not started (ENOENT) or killed by a signal: execa puts the cause in shortMessage.
          return { stdout: str(r.stdout), stderr: `${str(r.stderr)}${r.shortMessage}`, exitCode: -1 };
        }
        return { stdout: str(r.stdout), stderr: str(r.stderr), exitCode: r.exitCode };
      } catch (e) {
        return { stdout: "", stderr: `${cmd}: ${(e as Error).message}`, exitCode: -1 };
      }
    },
  };
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** `cmd args…` for messages and the init plan. Quotes only what a shell would need quoted. */
export function formatCommand(cmd: string, args: string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** The first non-empty stderr line (or the exit code): a short cause for status and logs. */
export function describeFailure(cmd: string, r: CommandResult): string {
  const line = r.stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join("; ");
  return `${cmd} failed (exit ${r.exitCode})${line ? `: ${line}` : ""}`;
}
