import type { KubeApi, WatchEvent } from "./kube-api.js";

interface OpenWatch {
  path: string;
  onEvent(event: WatchEvent): void;
  onEnd(error?: Error): void;
  open: boolean;
}

/**
 * A KubeApi over collections held in memory, for unit tests of the watchers: a list answers what
 * `collections` holds at `resourceVersion`; a watch gets only what the test sends with `emit`, and ends
 * when the test calls `end`. Writes are recorded.
 */
export class FakeKubeApi implements KubeApi {
  readonly collections = new Map<string, object[]>();
  resourceVersion = "1";
  readonly lists: string[] = [];
  readonly watched: string[] = [];
  readonly posts: Array<{ path: string; body: unknown }> = [];
  readonly patches: Array<{ path: string; body: unknown }> = [];
  private readonly watches: OpenWatch[] = [];

  async get<T>(path: string): Promise<T> {
    this.lists.push(path);
    const items = this.collections.get(path.split("?")[0]!) ?? [];
    return { metadata: { resourceVersion: this.resourceVersion }, items: [...items] } as T;
  }
  async find<T>(): Promise<T | undefined> {
    return undefined;
  }
  async post<T>(path: string, body: unknown): Promise<T> {
    this.posts.push({ path, body });
    return body as T;
  }
  async patch<T>(path: string, body: unknown): Promise<T> {
    this.patches.push({ path, body });
    return body as T;
  }
  async delete<T>(): Promise<T> {
    return undefined as T;
  }
  watch<T>(path: string, onEvent: (event: WatchEvent<T>) => void, onEnd: (error?: Error) => void) {
    this.watched.push(path);
    const w: OpenWatch = { path: path.split("?")[0]!, onEvent: onEvent as (e: WatchEvent) => void, onEnd, open: true };
    this.watches.push(w);
    return { close: () => (w.open = false) };
  }

  /** Sends an event to the open watches of the collection. */
  emit(path: string, type: string, object: object): void {
    for (const w of this.open(path)) w.onEvent({ type, object });
  }
  /** Ends the open watches of the collection, as the API server or a cut connection does. */
  end(path: string, error?: Error): void {
    for (const w of this.open(path)) {
      w.open = false;
      w.onEnd(error);
    }
  }
  open(path?: string): OpenWatch[] {
    return this.watches.filter((w) => w.open && (path === undefined || w.path === path));
  }
}

export const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await new Promise((r) => setTimeout(r, 2));
};
