/**
 * A stand-in for kube-proxy, for one port of one Service: it reads the Service's EndpointSlices from the
 * real API server (label `kubernetes.io/service-name`, as kube-proxy selects them) and forwards each
 * TCP connection to one of their ready endpoints, chosen at random as iptables' rules choose. With no
 * ready endpoint a connection is refused, as kube-proxy's REJECT rule does. Where it differs: it polls
 * (every 100 ms) instead of watching, so it follows a slice change up to 100 ms late, and an endpoint's
 * "pod IP" is mapped to a loopback port by `resolve` (the processes of this machine have no pod
 * network). Like kube-proxy, it neither probes the backends nor looks at pods: the slice is the truth.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import type { KubeApi } from "./kube-api.js";

interface Slice {
  ports?: Array<{ name?: string; port?: number }>;
  endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
}

export interface Backend {
  ip: string;
  port: number;
}

export interface ServiceProxy {
  /** The local port standing in for the Service's ClusterIP:port. */
  port: number;
  /** The ready endpoints as last read. */
  backends(): Backend[];
  /** Every change of the ready endpoints, with when the proxy saw it (clock ms). */
  changes: Array<{ at: number; ips: string[] }>;
  /** Connections refused for want of a ready endpoint, and connections whose backend did not answer. */
  refused: number;
  failed: number;
  close(): Promise<void>;
}

/** The ready endpoints of `slices` for the Service port named `portName` (kube-proxy: unset ready is ready). */
export function readyBackends(slices: readonly Slice[], portName: string): Backend[] {
  const out: Backend[] = [];
  for (const s of slices) {
    const port = s.ports?.find((p) => (p.name ?? "") === portName)?.port;
    if (port === undefined) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const ip of e.addresses) out.push({ ip, port });
    }
  }
  return out;
}

export async function startServiceProxy(
  api: KubeApi,
  namespace: string,
  service: string,
  portName: string,
  resolve: (backend: Backend) => number | undefined,
): Promise<ServiceProxy> {
  let current: Backend[] = [];
  let stopped = false;
  const path = `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(
    `kubernetes.io/service-name=${service}`,
  )}`;
  const proxy: ServiceProxy = {
    port: 0,
    backends: () => current,
    changes: [],
    refused: 0,
    failed: 0,
    close: async () => {
      stopped = true;
      await poller;
      // No new connections from here on (kube-scheduler keeps calling); then end the open ones.
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
  const read = async () => {
    const list = await api.get<{ items: Slice[] }>(path);
    const next = readyBackends(list.items, portName);
    const key = (b: Backend[]) => b.map((x) => `${x.ip}:${x.port}`).join(",");
    if (key(next) !== key(current)) proxy.changes.push({ at: Date.now(), ips: next.map((b) => b.ip) });
    current = next;
  };
  await read();
  const poller = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 100));
      await read().catch(() => undefined);
    }
  })();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => undefined);
    const ready = current.map((b) => resolve(b)).filter((p): p is number => p !== undefined);
    if (ready.length === 0) {
      proxy.refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(ready[Math.floor(Math.random() * ready.length)]!, "127.0.0.1");
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => {
      proxy.failed++;
      client.resetAndDestroy();
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}
