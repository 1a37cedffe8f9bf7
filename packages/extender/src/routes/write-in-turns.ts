import type { Writable } from "node:stream";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

/** Bytes handed to the socket per event-loop turn: the kernel copies them on loopback in that turn. */
export const WRITE_TURN_BYTES = 256 * 1024;

/**
 * `parts` written and `out` ended, at most about WRITE_TURN_BYTES per event-loop turn (a scrape is
 * megabytes), waiting for `out` to drain when it is full. Each batch gets a turn of its own even when
 * the socket drains at once: a loopback peer takes a batch in the same system call, 'drain' follows in
 * the same turn, and waiting only for it wrote a whole 4 MiB scrape in one turn. Stops when `gone()`.
 */
export async function writeInTurns(out: Writable, parts: readonly Buffer[], gone: () => boolean): Promise<void> {
  let i = 0;
  while (i < parts.length) {
    let bytes = 0;
    let flowing = true;
    out.cork();
    while (i < parts.length && bytes < WRITE_TURN_BYTES) {
      bytes += parts[i]!.length;
      flowing = out.write(parts[i++]);
    }
    out.uncork();
    if (!flowing) await drainedOrClosed(out);
    await yieldToEventLoop();
    if (gone()) return;
  }
  out.end();
}

function drainedOrClosed(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.once("drain", done);
    out.once("close", done);
  });
}
