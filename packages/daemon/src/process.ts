import type { Logger } from "pino";

/**
 * A daemon's life as a process: unhandled promise rejections are logged (not fatal), and the first
 * SIGTERM or SIGINT aborts the returned signal so the daemon can finish what it is doing and exit 0; a
 * second one exits at once with 130.
 */
export function stopOnSignals(log: Logger): AbortSignal {
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(130);
    }
    log.info({ signal }, "stopping");
    stop.abort();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return stop.signal;
}
