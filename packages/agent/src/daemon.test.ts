import test from "ava";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NodeLocalStorage } from "@nls/api";

/**
 * The built daemon end to end, without a cluster or LVM: a small stateful API server (resourceVersions,
 * 409s, a streaming watch) and a fake host whose lsblk/lvm/wipefs answer from the recorded fixtures
 * (reached through --command-prefix, exactly as nsenter would be).
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, "..", "dist", "cli.js");
const TESTDATA = join(HERE, "discovery", "testdata");

interface ApiState {
  nls: Map<string, NodeLocalStorage>;
  rv: number;
  requests: string[];
  events: { namespace: string; body: Record<string, unknown> }[];
  leases: Map<string, Record<string, unknown>>;
  watchers: Set<ServerResponse>;
}

function startApi(): Promise<{
  state: ApiState;
  port: number;
  close: () => Promise<void>;
  setSpec: (spec: object) => void;
}> {
  const state: ApiState = { nls: new Map(), rv: 100, requests: [], events: [], leases: new Map(), watchers: new Set() };
  const NLS = "/apis/csi.aliyun.com/v1alpha1/nodelocalstorages";
  const notify = (type: string, obj: NodeLocalStorage) => {
    for (const w of state.watchers) w.write(JSON.stringify({ type, object: obj }) + "\n");
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const body = data ? (JSON.parse(data) as Record<string, unknown>) : {};
      state.requests.push(`${req.method} ${url.pathname}${url.searchParams.has("watch") ? "?watch" : ""}`);
      const send = (code: number, obj: unknown) => {
        res.writeHead(code, { "Content-Type": "application/json" });
        res.end(JSON.stringify(obj));
      };
      const status = (code: number, message: string) => send(code, { kind: "Status", apiVersion: "v1", code, message });
      const p = url.pathname;
      let m: RegExpExecArray | null;
      if (req.method === "GET" && p === NLS && url.searchParams.get("watch") === "true") {
        res.writeHead(200, { "Content-Type": "application/json" });
        state.watchers.add(res);
        res.on("close", () => state.watchers.delete(res));
        for (const obj of state.nls.values()) res.write(JSON.stringify({ type: "ADDED", object: obj }) + "\n");
        return;
      }
      if (req.method === "POST" && p === NLS) {
        const obj = body as unknown as NodeLocalStorage;
        const name = obj.metadata.name!;
        if (state.nls.has(name)) return status(409, "already exists");
        const stored = {
          ...obj,
          metadata: { ...obj.metadata, uid: "nls-uid", resourceVersion: String(++state.rv), generation: 1 },
        };
        delete stored.status;
        state.nls.set(name, stored);
        notify("ADDED", stored);
        return send(201, stored);
      }
      if ((m = new RegExp(`^${NLS}/([^/]+)(/status)?$`).exec(p))) {
        const cur = state.nls.get(m[1]!);
        if (req.method === "GET") return cur ? send(200, cur) : status(404, "not found");
        if (req.method === "PUT" && m[2]) {
          if (!cur) return status(404, "not found");
          const obj = body as unknown as NodeLocalStorage;
          if (obj.metadata.resourceVersion !== cur.metadata.resourceVersion)
            return status(409, "the object has been modified");
          cur.status = obj.status;
          cur.metadata.resourceVersion = String(++state.rv);
          notify("MODIFIED", cur);
          return send(200, cur);
        }
      }
      if (req.method === "GET" && p === "/apis/csi.aliyun.com/v1alpha1/nodelocalstorageinitconfigs/open-local") {
        return send(200, {
          metadata: { name: "open-local" },
          spec: {
            globalConfig: { listConfig: { vgs: { include: ["nls.*"] }, devices: { include: ["/dev/loop[5-7]"] } } },
          },
        });
      }
      if (req.method === "GET" && p === "/api/v1/nodes/vm") {
        return send(200, { apiVersion: "v1", kind: "Node", metadata: { name: "vm", uid: "node-uid", labels: {} } });
      }
      if (req.method === "POST" && (m = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(p))) {
        state.events.push({ namespace: m[1]!, body });
        return send(201, body);
      }
      if ((m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(p))) {
        const key = `${m[1]}/${m[2] ?? (body.metadata as { name: string }).name}`;
        const cur = state.leases.get(key);
        if (req.method === "GET") return cur ? send(200, cur) : status(404, "not found");
        if (req.method === "POST") {
          if (cur) return status(409, "already exists");
          const stored = { ...body, metadata: { ...(body.metadata as object), resourceVersion: String(++state.rv) } };
          state.leases.set(key, stored);
          return send(201, stored);
        }
      }
      status(404, `no route for ${req.method} ${p}`);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        state,
        port: (server.address() as AddressInfo).port,
        setSpec: (spec) => {
          const cur = state.nls.get("vm")!;
          cur.spec = spec;
          cur.metadata.resourceVersion = String(++state.rv);
          cur.metadata.generation = (cur.metadata.generation ?? 1) + 1;
          notify("MODIFIED", cur);
        },
        close: () =>
          new Promise<void>((r) => {
            for (const w of state.watchers) w.end();
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

/** A host whose tools answer from the recorded fixtures; anything else is "not found" (exit 127). */
function fakeHostScript(dir: string): string {
  const script = join(dir, "fake-host.mjs");
  writeFileSync(
    script,
    `import { readFileSync } from "node:fs";
const files = { lsblk: "lsblk.json", lvm: "lvm-fullreport.json", "lvm systemid": "lvm-systemid.txt", wipefs: "wipefs-batch.json", losetup: "losetup.json" };
const cmd = process.argv[2] === "lvm" && process.argv[3] === "systemid" ? "lvm systemid" : process.argv[2];
if (!files[cmd]) { process.stderr.write(cmd + ": not available on the fake host\\n"); process.exit(127); }
process.stdout.write(readFileSync(${JSON.stringify(TESTDATA)} + "/" + files[cmd], "utf8"));
`,
  );
  return script;
}

async function eventually(cond: () => boolean, what: string, logs: () => string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}\n${logs()}`);
}

test("the daemon creates its NLS, writes its status once, follows a spec change at once, and stops on SIGTERM", async (t) => {
  t.true(existsSync(CLI), `${CLI} is missing: run \`pnpm build\` first`);
  const api = await startApi();
  t.teardown(api.close);
  const dir = mkdtempSync(join(tmpdir(), "nls-daemon-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: `http://127.0.0.1:${api.port}`, "insecure-skip-tls-verify": true } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      "current-context": "c",
    }),
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("NLS_") && k !== "NODE_NAME") env[k] = v;
  const child = spawn(
    process.execPath,
    [
      CLI,
      "--node-name=vm",
      `--kubeconfig=${kubeconfig}`,
      "--interval=1h",
      "--metrics-addr=127.0.0.1:0",
      "--devices=/dev/loop*",
      "--mount-root=/nonexistent/mnt/open-local",
      `--mountinfo=${join(TESTDATA, "mountinfo.txt")}`,
      `--command-prefix=${process.execPath} ${fakeHostScript(dir)}`,
      "--log-level=debug",
    ],
    { env: { ...env, POD_NAMESPACE: "kube-system" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  t.teardown(() => void child.kill("SIGKILL"));
  const puts = () =>
    api.state.requests.filter((r) => r === "PUT /apis/csi.aliyun.com/v1alpha1/nodelocalstorages/vm/status").length;

  await eventually(
    () => puts() === 1 && api.state.watchers.size === 1,
    "first status and watch",
    () => out,
  );
  const nls = api.state.nls.get("vm")!;
  t.deepEqual(nls.metadata.ownerReferences, [{ apiVersion: "v1", kind: "Node", name: "vm", uid: "node-uid" }]);
  t.deepEqual(nls.status?.filteredStorageInfo?.volumeGroups, ["nlsrec"]);
  t.deepEqual(nls.status?.filteredStorageInfo?.devices, ["/dev/loop5", "/dev/loop6", "/dev/loop7"]);
  // The Lease in nls' own namespace by default, whatever namespace the pod runs in.
  t.true(api.state.leases.has("nls-node-lease/nls-agent-vm"));

  // A spec change reaches the daemon through its watch; the interval is an hour, so only the watch can
  // explain a second status.
  api.setSpec({ nodeName: "vm", listConfig: { vgs: { include: [] }, devices: { include: ["/dev/loop5"] } } });
  await eventually(
    () => puts() === 2,
    "status after the spec change",
    () => out,
  );
  t.deepEqual(api.state.nls.get("vm")!.status?.filteredStorageInfo?.devices, ["/dev/loop5"]);
  t.deepEqual(api.state.nls.get("vm")!.status?.filteredStorageInfo?.volumeGroups, []);
  t.is(api.state.requests.filter((r) => r.startsWith("POST /apis/csi.aliyun.com")).length, 1, "created once");

  child.kill("SIGTERM");
  t.is(await exited, 0, out);
  t.regex(out, /"msg":"nls-agent stopped"/);
  // One JSON object per line, each naming the node; an error is always an object with its message.
  const lines = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { node?: string; err?: unknown });
  t.true(lines.length > 5);
  for (const line of lines) t.is(line.node, "vm", JSON.stringify(line));
  for (const line of lines.filter((l) => l.err !== undefined)) {
    t.is(typeof (line.err as { message?: unknown }).message, "string", JSON.stringify(line));
  }
});
