import test, { registerCompletionHandler } from "ava";

/** How long a finished test file's worker may take to exit by itself (keep-alive sockets close in ~4 s). */
const GRACE_MS = 15_000;

/**
 * Loaded into every test worker (ava's `require`). A worker that keeps a handle open after its tests
 * (a child process, a server, an interval) never exits; AVA then waits for 5 minutes of inactivity and
 * fails the whole run with no test to blame. Once AVA is done with a worker, this names what is still
 * open if the worker has not exited within the grace, and ends it.
 *
 * It also names the caller of a `process.exit()` that comes before AVA is done with the worker: AVA
 * counts such an exit as a failure, but when no test is running at that moment its TAP report has no
 * line for it, and the run fails with every test passing.
 */
export default function exitWhenDone(): void {
  let avaDone = false;
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    if (!avaDone) {
      const stack = new Error("process.exit() before AVA was done with this file").stack ?? "";
      console.error(`# ${test.meta.file}: process.exit(${code ?? ""}) called early\n${stack.replace(/^/gm, "#   ")}`);
    }
    return exit(code);
  }) as typeof process.exit;

  registerCompletionHandler(() => {
    avaDone = true;
    setTimeout(() => {
      const open = process.getActiveResourcesInfo().filter((r) => r !== "Timeout");
      console.error(
        `# ${test.meta.file}: still running ${GRACE_MS / 1000} s after its tests, with open: ${open.join(", ")}`,
      );
      process.exit();
    }, GRACE_MS).unref();
  });
}
