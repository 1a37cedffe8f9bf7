import type { NodeLocalStorage } from "@nls/api";
import type { Logger } from "@nls/daemon";
import type { AgentKubeClient, WatchEventType, WatchHandle } from "../kube/client.js";
import { sleep } from "./timing.js";

export interface NlsWatchSettings {
  nodeName: string;
  /** Delay before a watch that ended is started again. */
  restartMs: number;
  /** A watch older than this is replaced by a fresh one (a half-dead connection may never end). */
  maxAgeMs: number;
}

/** The reason a watch is ended on purpose when it has lived `maxAgeMs`. */
const RENEW_WATCH = Symbol("renew watch");

/**
 * A watch on the node's own NodeLocalStorage that is always there while the agent runs: restarted when
 * it ends, replaced when it gets old. Every event goes to `onEvent`; what it means is the caller's.
 */
export class NlsWatch {
  constructor(
    private readonly kube: Pick<AgentKubeClient, "watchNls">,
    private readonly log: Logger,
    private readonly settings: NlsWatchSettings,
    private readonly onEvent: (type: WatchEventType, nls: NodeLocalStorage) => void,
  ) {}

  /** Keeps a watch open until `signal` aborts, then stops it. */
  async keepWatching(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let handle: WatchHandle | undefined;
      let closed = false;
      let finish!: (err?: unknown) => void;
      const ended = new Promise<unknown>((resolve) => (finish = resolve));
      const onAbort = () => finish();
      signal.addEventListener("abort", onAbort, { once: true });
      // A connection that died without a FIN never ends the watch: renew it now and then regardless.
      const renew = setTimeout(() => finish(RENEW_WATCH), this.settings.maxAgeMs);
      try {
        this.kube.watchNls(this.settings.nodeName, this.onEvent, finish).then((h) => {
          handle = h;
          // The watch may have been given up on before it was established.
          if (closed) h.stop();
        }, finish);
        const err = await ended;
        if (signal.aborted) return;
        if (err === RENEW_WATCH) continue;
        this.log.debug({ err }, "watch on the NodeLocalStorage ended; restarting");
      } finally {
        clearTimeout(renew);
        closed = true;
        signal.removeEventListener("abort", onAbort);
        handle?.stop();
      }
      await sleep(this.settings.restartMs, signal);
    }
  }
}
