/**
 * client-go's workqueue, small: keys to work on, each at most once in the queue and never handed to two
 * workers at once. A key added while a worker has it goes back in the queue when that worker is done,
 * so a change seen mid-work is looked at again.
 */
export class WorkQueue<K> {
  private readonly queue: K[] = [];
  /** Keys waiting to be worked on: in the queue, or held by a worker and to be queued again. */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiting: Array<(key: K | undefined) => void> = [];
  private shutDown = false;

  add(key: K): void {
    if (this.shutDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.processing.has(key)) this.push(key);
  }

  /** The next key, once there is one; undefined once the queue is shut down (what is queued is dropped). */
  next(): Promise<K | undefined> {
    if (this.shutDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A worker is finished with `key`. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  /** Wakes every waiting worker with undefined; later `next` calls answer undefined at once. */
  shutdown(): void {
    this.shutDown = true;
    for (const resolve of this.waiting.splice(0)) resolve(undefined);
  }

  get length(): number {
    return this.queue.length;
  }

  private push(key: K): void {
    const worker = this.waiting.shift();
    if (worker) worker(this.take(key));
    else this.queue.push(key);
  }

  private take(key: K): K {
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }
}
