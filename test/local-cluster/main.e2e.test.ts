/**
 * `npm run cluster`'s entry, for real: it starts, says what to try next, the agents' NodeLocalStorages
 * show each node's VG with its allocatable bytes, the sample pod's PVC gets a node from kube-scheduler
 * and the extender, and SIGINT removes everything it made (loop devices, VGs, temp dirs).
 */
import { gatedSerial } from "../gate.js";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { e2eGate, run, waitFor } from "../e2e/cluster.js";
import { lvmUnavailable } from "../e2e/lvm.js";
import { stopProcess } from "../e2e/stop-process.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const gate = await e2eGate();
const lvmWhy = await lvmUnavailable();
if (lvmWhy && process.env.NLS_REQUIRE_REAL_TOOLS === "1")
  throw new Error(`npm run cluster needs real LVM in CI: ${lvmWhy}`);
const enabled = gate.run && !lvmWhy;
if (!enabled) console.log(`# npm run cluster e2e skipped: ${gate.why ?? lvmWhy}`);
const test = gatedSerial(enabled);

const ctx = { out: [] as string[] } as { child: ChildProcess; exited: Promise<number | null>; out: string[] };

test.after.always(async () => {
  // Its own teardown (VGs, loop devices, daemons) runs on SIGINT; a hung one is killed after the grace.
  if (ctx.child) await stopProcess(ctx.child, { signal: "SIGINT", graceMs: 120_000 });
});

const line = (re: RegExp) => ctx.out.map((l) => re.exec(l)).find((m) => m);

test("npm run cluster starts 2 nodes with their VGs, places the sample pod, and SIGINT removes everything", async (t) => {
  const child = spawn("node", ["--import", "tsx", "test/local-cluster/main.ts", "--nodes", "2", "--vg-size", "8Gi"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  ctx.child = child;
  ctx.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  for (const s of [child.stdout, child.stderr]) s.on("data", (d: Buffer) => ctx.out.push(...d.toString().split("\n")));
  t.teardown(() => {
    if (!t.passed) t.log(ctx.out.join("\n"));
  });

  await waitFor("the 'Try next:' message", async () => (ctx.out.includes("Try next:") ? true : undefined), 240_000);
  const kubeconfig = line(/^ {2}export KUBECONFIG=(\S+)$/)![1]!;
  const diskDir = line(/^ {2}the loop devices are sparse files in (\S+)$/)![1]!;
  const clusterDir = line(/^ {2}logs: (\S+)\/\*\.log$/)![1]!;
  const nodes = ctx.out.flatMap((l) => {
    const m = /^ {2}(node-\d+): VG (\S+) on (\/dev\/loop\d+) /.exec(l);
    return m ? [{ name: m[1]!, vg: m[2]!, device: m[3]! }] : [];
  });
  t.deepEqual(
    nodes.map((n) => n.name),
    ["node-1", "node-2"],
  );
  const kubectl = async (args: string[]) => {
    const r = await run("kubectl", ["--kubeconfig", kubeconfig, ...args]);
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  // kubectl get nls: one row per node, one VG, allocatable just under the 8Gi disk (LVM keeps its metadata).
  const rows = (await kubectl(["get", "nls"])).trim().split("\n");
  const header = rows[0]!.split(/\s+/);
  const table = rows.slice(1).map((r) => Object.fromEntries(r.split(/\s+/).map((v, i) => [header[i], v])));
  t.deepEqual(
    table.map((r) => [r.NAME, r.VGS]),
    [
      ["node-1", "1"],
      ["node-2", "1"],
    ],
  );
  for (const r of table) t.regex(r.ALLOCATABLE!, /^81\d\dMi$/, `${r.NAME} ALLOCATABLE`);

  // The sample pod, as the message says: its PVC gets one of the nodes.
  await kubectl(["apply", "-f", join(root, "deploy/samples/pod-with-local-volume.yaml")]);
  const selected = await waitFor("the sample PVC's selected node", async () => {
    const v = await kubectl([
      "get",
      "pvc",
      "nls-sample",
      "-o",
      "jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/selected-node}",
    ]);
    return v.trim() || undefined;
  });
  t.true(["node-1", "node-2"].includes(selected), selected);

  child.kill("SIGINT");
  t.is(await ctx.exited, 0);
  t.true(ctx.out.includes("stopped; the loop devices and VGs are removed"));
  const attached = (await run("losetup", ["--list", "--noheadings", "--output", "BACK-FILE"])).stdout;
  t.false(attached.includes(diskDir), attached);
  for (const n of nodes) t.not((await run("vgs", [n.vg])).exitCode, 0, `VG ${n.vg} is gone`);
  t.false(existsSync(diskDir));
  t.false(existsSync(clusterDir));
});
