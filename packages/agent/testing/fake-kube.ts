import type { NodeLocalStorage, NodeLocalStorageInitConfig, NodeLocalStorageSpec } from "@nls/api";
import {
  KubeError,
  type AgentEvent,
  type AgentKubeClient,
  type Lease,
  type NodeRef,
  type WatchEventType,
  type WatchHandle,
} from "../src/kube/client.js";

/** One mutating call the fake received, in order; tests count and inspect them. */
export interface FakeWrite {
  kind: "createNls" | "replaceNlsStatus" | "createEvent" | "createLease" | "replaceLease";
  name: string;
}

interface Watcher {
  name: string;
  onEvent: (type: WatchEventType, nls: NodeLocalStorage) => void;
  onDone: (err?: unknown) => void;
}

/**
 * An in-memory API server for the agent's client interface: objects get a resourceVersion that changes
 * on every write, stale writes get 409, and conflicts can be injected to exercise retry paths.
 * Every value going in or out is cloned, as over the wire.
 */
export class FakeKube implements AgentKubeClient {
  readonly nls = new Map<string, NodeLocalStorage>();
  readonly initConfigs = new Map<string, NodeLocalStorageInitConfig>();
  readonly nodes = new Map<string, NodeRef>();
  readonly leases = new Map<string, Lease>();
  readonly events: { namespace: string; involved: string; event: AgentEvent }[] = [];
  readonly writes: FakeWrite[] = [];
  /** The next N status writes fail with 409 as if another writer had won the race. */
  statusConflicts = 0;
  private rv = 0;
  private watchers = new Set<Watcher>();

  addNode(name: string, labels: Record<string, string> = {}): NodeRef {
    const node = { name, uid: `uid-${name}`, labels };
    this.nodes.set(name, node);
    return node;
  }

  addInitConfig(cfg: NodeLocalStorageInitConfig): void {
    this.initConfigs.set(cfg.metadata.name ?? "", structuredClone(cfg));
  }

  /** A user (or another controller) edits the spec: new generation and resourceVersion, watchers told. */
  userUpdateSpec(name: string, spec: NodeLocalStorageSpec): void {
    const cur = this.mustGet(name);
    cur.spec = structuredClone(spec);
    cur.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    this.bump(cur);
    this.notify("MODIFIED", cur);
  }

  userSetAnnotations(name: string, annotations: Record<string, string>): void {
    const cur = this.mustGet(name);
    cur.metadata.annotations = { ...annotations };
    this.bump(cur);
    this.notify("MODIFIED", cur);
  }

  /** Ends every open watch as a dropped connection would. */
  breakWatches(err: unknown = new Error("watch connection lost")): void {
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.onDone(err);
    }
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  writesOf(kind: FakeWrite["kind"]): FakeWrite[] {
    return this.writes.filter((w) => w.kind === kind);
  }

  async getNls(name: string): Promise<NodeLocalStorage | undefined> {
    const cur = this.nls.get(name);
    return cur && structuredClone(cur);
  }

  async createNls(nls: NodeLocalStorage): Promise<NodeLocalStorage> {
    const name = nls.metadata.name ?? "";
    if (this.nls.has(name)) throw new KubeError(409, `nodelocalstorages "${name}" already exists`);
    this.writes.push({ kind: "createNls", name });
    const stored = structuredClone(nls);
    stored.metadata.uid = `uid-nls-${name}`;
    stored.metadata.generation = 1;
    stored.metadata.creationTimestamp = new Date(0).toISOString();
    // Like the API server, status is not settable on create when the subresource is enabled.
    delete stored.status;
    this.bump(stored);
    this.nls.set(name, stored);
    this.notify("ADDED", stored);
    return structuredClone(stored);
  }

  async replaceNlsStatus(nls: NodeLocalStorage): Promise<NodeLocalStorage> {
    const name = nls.metadata.name ?? "";
    const cur = this.mustGet(name);
    if (this.statusConflicts > 0) {
      this.statusConflicts--;
      // Someone else wrote in between: the stored version moves on.
      this.bump(cur);
      throw new KubeError(409, `Operation cannot be fulfilled on nodelocalstorages "${name}": injected conflict`);
    }
    if (nls.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      throw new KubeError(
        409,
        `Operation cannot be fulfilled on nodelocalstorages "${name}": the object has been modified`,
      );
    }
    this.writes.push({ kind: "replaceNlsStatus", name });
    // The status subresource ignores spec and metadata changes.
    cur.status = structuredClone(nls.status);
    this.bump(cur);
    this.notify("MODIFIED", cur);
    return structuredClone(cur);
  }

  async watchNls(
    name: string,
    onEvent: (type: WatchEventType, nls: NodeLocalStorage) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    const w: Watcher = { name, onEvent, onDone };
    this.watchers.add(w);
    const cur = this.nls.get(name);
    if (cur) onEvent("ADDED", structuredClone(cur));
    return { stop: () => void this.watchers.delete(w) };
  }

  async getInitConfig(name: string): Promise<NodeLocalStorageInitConfig | undefined> {
    const cfg = this.initConfigs.get(name);
    return cfg && structuredClone(cfg);
  }

  async getNode(name: string): Promise<NodeRef> {
    const node = this.nodes.get(name);
    if (!node) throw new KubeError(404, `nodes "${name}" not found`);
    return structuredClone(node);
  }

  async createEvent(namespace: string, involved: NodeLocalStorage, event: AgentEvent): Promise<void> {
    this.writes.push({ kind: "createEvent", name: involved.metadata.name ?? "" });
    this.events.push({ namespace, involved: involved.metadata.name ?? "", event: { ...event } });
  }

  async getLease(namespace: string, name: string): Promise<Lease | undefined> {
    const lease = this.leases.get(`${namespace}/${name}`);
    return lease && structuredClone(lease);
  }

  async createLease(lease: Lease): Promise<Lease> {
    const key = `${lease.namespace}/${lease.name}`;
    if (this.leases.has(key)) throw new KubeError(409, `leases "${lease.name}" already exists`);
    this.writes.push({ kind: "createLease", name: lease.name });
    const stored = { ...structuredClone(lease), resourceVersion: String(++this.rv) };
    this.leases.set(key, stored);
    return structuredClone(stored);
  }

  async replaceLease(lease: Lease): Promise<Lease> {
    const key = `${lease.namespace}/${lease.name}`;
    const cur = this.leases.get(key);
    if (!cur) throw new KubeError(404, `leases "${lease.name}" not found`);
    if (lease.resourceVersion !== cur.resourceVersion) {
      throw new KubeError(409, `Operation cannot be fulfilled on leases "${lease.name}"`);
    }
    this.writes.push({ kind: "replaceLease", name: lease.name });
    const stored = { ...structuredClone(lease), resourceVersion: String(++this.rv) };
    this.leases.set(key, stored);
    return structuredClone(stored);
  }

  private mustGet(name: string): NodeLocalStorage {
    const cur = this.nls.get(name);
    if (!cur) throw new KubeError(404, `nodelocalstorages "${name}" not found`);
    return cur;
  }

  private bump(obj: NodeLocalStorage): void {
    obj.metadata.resourceVersion = String(++this.rv);
  }

  private notify(type: WatchEventType, obj: NodeLocalStorage): void {
    for (const w of this.watchers) if (w.name === obj.metadata.name) w.onEvent(type, structuredClone(obj));
  }
}
