import type { ChildProcess } from "node:child_process";

/** How long a process may take over its orderly exit before it is killed. */
export const STOP_GRACE_MS = 30_000;

/**
 * Sends `signal` (SIGTERM unless told) and resolves with the exit code once `child` has exited; after
 * `graceMs` it is killed with SIGKILL (the code is then null). An after hook never waits on a process
 * that hangs in its shutdown: AVA would time out with no test to blame and fail the whole run.
 */
export async function stopProcess(
  child: ChildProcess,
  { signal = "SIGTERM", graceMs = STOP_GRACE_MS }: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
