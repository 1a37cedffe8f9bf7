import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tokenKubeconfigYaml } from "@nls/testkit";

/**
 * A fake Kubernetes API server over HTTP: objects stored by path, a resourceVersion that moves on every
 * write, 404 / 409 (stale resourceVersion, name taken) / 401 (unknown bearer token) as Status objects,
 * `generateName`, status subresources, and watches (newline-delimited JSON, filtered by
 * `metadata.name`, starting with the current objects as ADDED). Faults are scripted per request. It knows
 * nothing about the agent: the agent's HTTP client is tested against it, and `pnpm bench:idle` runs the
 * built agent against it.
 */

export interface SeenRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  body: unknown;
  authorization?: string;
}

/** A scripted answer: a status and body, a connection dropped without an answer, or no answer at all. */
export type Fault = { status: number; body?: unknown; raw?: string } | "drop" | "hang";

/** A stored object: what the fake reads of it is metadata (and status, for status subresources). */
export interface ApiObject {
  metadata: {
    name?: string;
    generateName?: string;
    resourceVersion?: string;
    uid?: string;
    [field: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: unknown;
  [field: string]: unknown;
}

interface Watcher {
  collection: string;
  name?: string;
  res: ServerResponse;
}

/** Resources whose `status` is a subresource: ignored on create and on PUT of the object. */
const STATUS_SUBRESOURCE = new Set(["nodelocalstorages"]);

export class FakeApiServer {
  readonly requests: SeenRequest[] = [];
  /** Objects by their path (`/api/v1/nodes/n1`). */
  readonly objects = new Map<string, ApiObject>();
  /** Bearer tokens accepted; empty accepts any request. */
  readonly tokens = new Set<string>();
  private readonly faults: { match: (r: SeenRequest) => boolean; fault: Fault }[] = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 100;
  private server!: Server;
  url = "";

  static async start(): Promise<FakeApiServer> {
    const api = new FakeApiServer();
    api.server = createServer((req, res) => api.handle(req, res));
    await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
    api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig (YAML) for this server with `token`. */
  kubeconfig(token = "t"): string {
    return tokenKubeconfigYaml(this.url, token);
  }

  /** The next request `match` accepts gets `fault` instead of its answer (once). */
  inject(match: (r: SeenRequest) => boolean, fault: Fault): void {
    this.faults.push({ match, fault });
  }

  /** Stores `obj` at `path` as a client's create would, telling watchers; returns what is stored. */
  seed(path: string, obj: object): ApiObject {
    const stored = structuredClone(obj) as ApiObject;
    stored.metadata = {
      uid: `uid-${randomBytes(4).toString("hex")}`,
      ...stored.metadata,
      resourceVersion: this.nextRv(),
    };
    this.objects.set(path, stored);
    this.notify(path, "ADDED", stored);
    return structuredClone(stored);
  }

  /** Changes the stored object at `path` as another writer would (new resourceVersion, watchers told). */
  modify(path: string, change: (obj: ApiObject) => void): ApiObject {
    const cur = this.objects.get(path);
    if (!cur) throw new Error(`${path}: not stored`);
    change(cur);
    cur.metadata.resourceVersion = this.nextRv();
    this.notify(path, "MODIFIED", cur);
    return structuredClone(cur);
  }

  /** Writes `line` (and a newline) to every open watch. */
  sendToWatches(line: string): void {
    for (const w of this.watchers) w.res.write(`${line}\n`);
  }

  /** Ends every open watch as the server does when its timeout is up. */
  endWatches(): void {
    for (const w of [...this.watchers]) w.res.end();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  /** The requests that change something (what the bench counts as API writes). */
  writes(): SeenRequest[] {
    return this.requests.filter((r) => r.method !== "GET");
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (data += c));
    req.on("end", () => {
      let body: unknown;
      try {
        body = data ? JSON.parse(data) : undefined;
      } catch {
        return reply(res, 400, statusBody(400, "BadRequest", "body is not JSON"));
      }
      const seen: SeenRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        body,
        authorization: req.headers.authorization,
      };
      this.requests.push(seen);
      const i = this.faults.findIndex((f) => f.match(seen));
      if (i >= 0) {
        const fault = this.faults.splice(i, 1)[0]!.fault;
        if (fault === "drop") return void req.socket.destroy();
        if (fault === "hang") return;
        res.writeHead(fault.status, { "Content-Type": "application/json" });
        return void res.end(
          fault.raw ?? JSON.stringify(fault.body ?? statusBody(fault.status, "Injected", "injected")),
        );
      }
      const token = /^Bearer (.*)$/.exec(seen.authorization ?? "")?.[1];
      if (this.tokens.size > 0 && !(token && this.tokens.has(token)))
        return reply(res, 401, statusBody(401, "Unauthorized", "Unauthorized"));
      this.route(seen, res);
    });
  }

  private route(seen: SeenRequest, res: ServerResponse): void {
    const url = new URL(seen.url, "http://fake");
    const status = url.pathname.endsWith("/status");
    const path = status ? url.pathname.slice(0, -"/status".length) : url.pathname;
    const { plural, name } = parsePath(path);
    const body = seen.body as ApiObject | undefined;
    if (seen.method === "GET" && url.searchParams.get("watch") === "true") {
      const fieldName = /^metadata\.name=(.*)$/.exec(url.searchParams.get("fieldSelector") ?? "")?.[1];
      return this.startWatch(path, fieldName, res);
    }
    if (seen.method === "GET") {
      const obj = this.objects.get(path);
      return obj ? reply(res, 200, obj) : reply(res, 404, notFound(plural, name));
    }
    if (seen.method === "POST" && body) {
      const objName = body.metadata?.name ?? `${body.metadata?.generateName ?? ""}${randomBytes(4).toString("hex")}`;
      const objPath = `${path}/${objName}`;
      if (this.objects.has(objPath))
        return reply(res, 409, statusBody(409, "AlreadyExists", `${plural} "${objName}" already exists`));
      const stored = structuredClone(body);
      if (STATUS_SUBRESOURCE.has(plural)) delete stored.status;
      stored.metadata = {
        ...stored.metadata,
        name: objName,
        uid: `uid-${randomBytes(4).toString("hex")}`,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        resourceVersion: this.nextRv(),
      };
      this.objects.set(objPath, stored);
      this.notify(objPath, "ADDED", stored);
      return reply(res, 201, stored);
    }
    if (seen.method === "PUT" && body) {
      const cur = this.objects.get(path);
      if (!cur) return reply(res, 404, notFound(plural, name));
      const rv = body.metadata?.resourceVersion;
      if (rv !== undefined && rv !== cur.metadata.resourceVersion)
        return reply(
          res,
          409,
          statusBody(
            409,
            "Conflict",
            `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          ),
        );
      const next: ApiObject = status
        ? { ...cur, status: body.status }
        : { ...body, ...(STATUS_SUBRESOURCE.has(plural) ? { status: cur.status } : {}) };
      next.metadata = {
        ...(status ? cur.metadata : body.metadata),
        uid: cur.metadata.uid,
        resourceVersion: this.nextRv(),
      };
      this.objects.set(path, next);
      this.notify(path, "MODIFIED", next);
      return reply(res, 200, next);
    }
    reply(res, 405, statusBody(405, "MethodNotAllowed", `${seen.method} ${url.pathname}`));
  }

  private startWatch(collection: string, name: string | undefined, res: ServerResponse): void {
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    const w: Watcher = { collection, name, res };
    this.watchers.add(w);
    res.on("close", () => this.watchers.delete(w));
    for (const [path, obj] of this.objects)
      if (inCollection(path, collection) && (!name || obj.metadata?.name === name))
        res.write(`${JSON.stringify({ type: "ADDED", object: obj })}\n`);
  }

  private notify(path: string, type: string, obj: ApiObject): void {
    for (const w of this.watchers)
      if (inCollection(path, w.collection) && (!w.name || w.name === obj.metadata?.name))
        w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
  }

  private nextRv(): string {
    return String(++this.rv);
  }
}

function inCollection(path: string, collection: string): boolean {
  return path.startsWith(`${collection}/`) && !path.slice(collection.length + 1).includes("/");
}

/** The resource and name a path names: `/api/v1/<plural>[/<name>]`, `/apis/<g>/<v>/namespaces/<ns>/<plural>[/<name>]`. */
function parsePath(path: string): { plural: string; name?: string } {
  const parts = path.split("/").filter(Boolean);
  const rest = parts.slice(parts[0] === "api" ? 2 : 3);
  return rest[0] === "namespaces" && rest.length >= 3
    ? { plural: rest[2]!, name: rest[3] }
    : { plural: rest[0] ?? "", name: rest[1] };
}

export function statusBody(code: number, reason: string, message: string) {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

const notFound = (plural: string, name?: string) => statusBody(404, "NotFound", `${plural} "${name ?? ""}" not found`);

function reply(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
