/**
 * The least a kube-scheduler extender can do (`node --import=tsx null-extender.ts --port=<port>`):
 * filter lets every candidate node through, prioritize returns no scores, as nls answers a pod without
 * local volumes. With kube-scheduler configured as for nls (every pod, names only), its rate over the
 * no-extender rate is the ceiling of any extender on the same harness: what is left is kube-scheduler's
 * own work for the calls (encoding the node names, HTTP, decoding the answers) and this server's JSON.
 *
 * The filter answer is built from the request's NodeNames, not canned: kube-scheduler sends the nodes
 * its own filters kept (every node here, or a sample with adaptive `percentageOfNodesToScore`), and
 * the answer must name those, so echoing them is what any extender letting everything through sends.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";

/** The filter answer letting through every node the request names; undefined for a body that is not ExtenderArgs. */
export function passEveryNode(body: string): string | undefined {
  let args: unknown;
  try {
    args = JSON.parse(body);
  } catch {
    return undefined;
  }
  const names = (args as { NodeNames?: unknown } | null)?.NodeNames;
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) return undefined;
  return JSON.stringify({ NodeNames: names, Nodes: null, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: "" });
}

/** The prioritize answer: no node scored (kube-scheduler gives every node 0 from this extender). */
export const NO_SCORES = "[]";

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === "GET" && req.url === "/readyz") return answer(res, 200, '"ok"');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  if (req.method === "POST" && req.url === "/scheduler/predicates") {
    const reply = passEveryNode(body);
    return reply ? answer(res, 200, reply) : answer(res, 400, '{"Error":"not ExtenderArgs with NodeNames"}');
  }
  if (req.method === "POST" && req.url === "/scheduler/priorities") return answer(res, 200, NO_SCORES);
  answer(res, 404, '{"Error":"not found"}');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv.find((a) => a.startsWith("--port="))?.slice("--port=".length));
  if (!Number.isInteger(port) || port <= 0) throw new Error("usage: null-extender.ts --port=<port>");
  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 90_000;
  server.listen(port, "127.0.0.1");
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}
