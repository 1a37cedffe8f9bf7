/**
 * What a start has made, undone in reverse order. Once closed (a signal arrived), anything made later is
 * undone at once and the start is told to give up, so a Ctrl-C during start-up leaves nothing behind:
 * the caller closes, waits for the start to give up, then runs the rest.
 */
export class StartAborted extends Error {
  constructor() {
    super("stopped during start-up");
  }
}

export class Teardown {
  private readonly steps: Array<{ what: string; undo: () => Promise<unknown> }> = [];
  private closed = false;

  constructor(private readonly say: (line: string) => void) {}

  /** Registers how to undo something just made; once closed, undoes it now and throws StartAborted. */
  async add(what: string, undo: () => Promise<unknown>): Promise<void> {
    if (this.closed) {
      await this.undo({ what, undo });
      throw new StartAborted();
    }
    this.steps.push({ what, undo });
  }

  /** Throws StartAborted once closed: called between start-up steps. */
  check(): void {
    if (this.closed) throw new StartAborted();
  }

  close(): void {
    this.closed = true;
  }

  /** Closes, then undoes every step, newest first; a failing step is reported and the rest still run. */
  async run(): Promise<void> {
    this.close();
    for (let step = this.steps.pop(); step; step = this.steps.pop()) await this.undo(step);
  }

  private async undo(step: { what: string; undo: () => Promise<unknown> }): Promise<void> {
    try {
      await step.undo();
    } catch (e) {
      this.say(`could not undo ${step.what}: ${(e as Error).message}`);
    }
  }
}
