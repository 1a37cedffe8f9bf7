/**
 * Exchanges run one after another on one kept-alive connection, as kube-scheduler calls an extender
 * (one pod at a time per profile), for a given time or count, cycling through them. An exchange is one
 * request, or several whose bodies depend on earlier answers (filter, then prioritize on the nodes it
 * let through: what kube-scheduler asks per pod); its latency is the whole exchange's.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

/** POSTs `body` to `path`; the answer's text (failures are counted by the runner, not thrown). */
export type Send = (path: string, body: string) => Promise<string>;
export type Exchange = (send: Send) => Promise<unknown>;

export interface Sent {
  /** One per exchange. */
  latenciesMs: number[];
  wallSeconds: number;
  /** Answers that were not 200, by status. */
  failures: Record<number, number>;
  /** The first answer's body (what a figure's correctness is checked on). */
  firstAnswer: string;
}

/** For so long, or so many exchanges. */
export type Until = { seconds: number } | { requests: number };

/** One request per exchange, `bodies` in turn. */
export const requests = (path: string, bodies: readonly string[]): Exchange[] =>
  bodies.map((body) => (send: Send) => send(path, body));

function post(agent: Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const req = request(url, { agent, method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export async function sendFor(base: string, exchanges: readonly Exchange[], until: Until): Promise<Sent> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latenciesMs: number[] = [];
  const failures: Record<number, number> = {};
  let firstAnswer: string | undefined;
  const send: Send = async (path, body) => {
    const { status, text } = await post(agent, new URL(path, base), body);
    firstAnswer ??= text;
    if (status !== 200) failures[status] = (failures[status] ?? 0) + 1;
    return text;
  };
  const start = performance.now();
  const more =
    "seconds" in until
      ? () => performance.now() < start + until.seconds * 1000
      : () => latenciesMs.length < until.requests;
  try {
    for (let i = 0; more(); i++) {
      const t = performance.now();
      await exchanges[i % exchanges.length]!(send);
      latenciesMs.push(performance.now() - t);
    }
  } finally {
    agent.destroy();
  }
  return { latenciesMs, wallSeconds: (performance.now() - start) / 1000, failures, firstAnswer: firstAnswer ?? "" };
}
