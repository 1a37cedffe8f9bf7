/**
 * Answers of TokenReviews and SubjectAccessReviews, kept for a while so kube-scheduler's steady stream
 * of requests costs the API server one review per identity and verb per TTL, not one per request.
 * Positive and negative answers have their own TTL (a denial is forgotten sooner). Time is passed in.
 */
export class ReviewCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: (value: V) => number,
    private readonly maxEntries = 4096,
  ) {}

  get(key: string, now: number): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, now: number): void {
    // Bounded: a flood of made-up tokens must not grow memory. The oldest entry goes first.
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, until: now + this.ttlMs(value) });
  }

  get size(): number {
    return this.entries.size;
  }
}
