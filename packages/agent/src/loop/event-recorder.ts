import type { NodeLocalStorage } from "@nls/api";
import type { Logger } from "@nls/daemon";
import type { AgentEvent, AgentKubeClient } from "../kube/client.js";
import type { AgentMetrics } from "../metrics.js";

/**
 * Events on the NodeLocalStorage, recorded once per subject (a VG, a mount point, the init config) until
 * what they say changes: a refusal repeated every scan is one Event, not a flood.
 */
export class EventRecorder {
  /** The last Event recorded per subject, as `type|reason|message`. */
  private readonly last = new Map<string, string>();

  constructor(
    private readonly kube: Pick<AgentKubeClient, "createEvent">,
    /** Where the Events go (`--event-namespace`; the client may substitute one the API server accepts). */
    private readonly namespace: string,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
  ) {}

  /** Records `event` about `subject` unless it is the one last recorded for it; a failure only logs. */
  async record(nls: NodeLocalStorage, subject: string, event: AgentEvent): Promise<void> {
    const key = `${event.type}|${event.reason}|${event.message}`;
    if (this.last.get(subject) === key) return;
    try {
      await this.kube.createEvent(this.namespace, nls, event);
      this.last.set(subject, key);
      this.metrics.countWrite("event", "ok");
    } catch (err) {
      this.metrics.countWrite("event", "error");
      this.log.warn({ err, reason: event.reason }, "recording an event failed");
    }
  }

  /** Forgets the subjects `drop` picks: their next Event is recorded even if it repeats an earlier one. */
  forget(drop: (subject: string) => boolean): void {
    for (const subject of [...this.last.keys()]) if (drop(subject)) this.last.delete(subject);
  }
}
