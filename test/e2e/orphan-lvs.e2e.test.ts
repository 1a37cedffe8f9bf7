/**
 * LVs no PV accounts for, on real LVM: the built `nls-agent` (node-bound token, deploy/'s RBAC) on a VG of
 * 32 MiB extents over a loop device, and the built `nls-extender`, against a real kube-apiserver. LVs are
 * made with `lvcreate` as open-local's CSI driver or an operator would (without activation: this kernel
 * has no device-mapper), PVs and PVCs through the API server; what the extender decides is asked of its
 * filter route and read from its `/cache` and `/metrics`.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gatedSerial } from "../gate.js";
import { e2eGate, freePort, run, startDeployedCluster, waitFor, type Cluster } from "./cluster.js";
import { applyInitConfig, nlsWithVg } from "./agent-node.js";
import { startAgent, startExtender, type AgentProcess, type ExtenderProcess } from "./daemons.js";
import { localPvc } from "./local-volumes.js";
import { createLoopDevice, lvmUnavailable, NO_ACTIVATION, removeVgsAndLoops } from "./lvm.js";

const MI = 2 ** 20;
const NODE = "e2e-orphans-1";
const NS = "orphans";
const suffix = randomBytes(3).toString("hex");
const VG = `nlsorph-${suffix}`;
const CLASS = "nls-orphans";
/** The VG: 1 GiB loop device, 32 MiB extents (not vgcreate's default 4 MiB): 31 extents, 992 MiB. */
const EXTENT = 32 * MI;
const VG_BYTES = 31 * EXTENT;

const gate = await e2eGate();
const lvmWhy = await lvmUnavailable();
if (lvmWhy && process.env.NLS_REQUIRE_REAL_TOOLS === "1") throw new Error(`orphan-lvs e2e needs real LVM: ${lvmWhy}`);
const enabled = gate.run && !lvmWhy;
if (!enabled) console.log(`# orphan-lvs e2e skipped: ${gate.why ?? lvmWhy}`);
const test = gatedSerial(enabled);

const ctx = { loops: [] as string[], agentLog: [] as string[], extenderLog: [] as string[] } as {
  cluster: Cluster;
  dir: string;
  agent: AgentProcess;
  extender: ExtenderProcess;
  loops: string[];
  agentLog: string[];
  extenderLog: string[];
};

interface Charge {
  lv: string;
  vg: string;
  bytes: number;
  why: string;
  explainedBy?: string;
}
interface CacheView {
  nodes: Record<string, { unexplainedLvs: Charge[]; lvs: Array<{ name: string }> } | undefined>;
  ledger: {
    nodes: Record<string, { vgs: Record<string, number> } | undefined>;
    claims: Record<string, { source: string }>;
  };
  reservations: { live: number };
}

async function sh(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** An LV written as `lvcreate -L` would for the CSI driver, without activating it. */
const lvcreate = (name: string, size: string) =>
  sh("lvcreate", [...NO_ACTIVATION, "-an", "-Zn", "-L", size, "-n", name, VG]);
const lvremove = (name: string) => sh("lvremove", [...NO_ACTIVATION, "-f", `${VG}/${name}`]);

async function cache(): Promise<CacheView> {
  return (await (await fetch(`http://127.0.0.1:${ctx.extender.debugPort}/cache?nodeName=${NODE}`)).json()) as CacheView;
}

/** The extender's view once `ok` holds of it (the agent scans every second; the extender watches). */
const cacheWhen = (what: string, ok: (c: CacheView) => boolean) =>
  waitFor(what, async () => {
    const c = await cache();
    return ok(c) ? c : undefined;
  });

const charges = (c: CacheView) => c.nodes[NODE]?.unexplainedLvs ?? [];
const committed = (c: CacheView) => c.ledger.nodes[NODE]?.vgs[VG] ?? 0;

async function apply(object: object): Promise<void> {
  await ctx.cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(object));
}

/** A local PV on NODE in VG, as open-local's CSI driver writes it (named after its LV). */
function localPv(name: string, size: string, claim?: { name: string; uid: string }) {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: size },
      accessModes: ["ReadWriteOnce"],
      storageClassName: CLASS,
      persistentVolumeReclaimPolicy: "Retain",
      ...(claim ? { claimRef: { namespace: NS, name: claim.name, uid: claim.uid } } : {}),
      csi: {
        driver: "local.csi.aliyun.com",
        volumeHandle: name,
        volumeAttributes: { vgName: VG, volumeType: "LVM" },
      },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [NODE] }] },
          ],
        },
      },
    },
  };
}

/** Filter for a pod using `claims` (which must exist), as kube-scheduler asks it: the node's verdict. */
async function filter(pod: string, claims: string[]): Promise<{ passes: boolean; reason?: string }> {
  const res = await fetch(`http://127.0.0.1:${ctx.extender.port}/scheduler/predicates`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      Pod: {
        metadata: { namespace: NS, name: pod, uid: randomUUID() },
        spec: { volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) },
      },
      NodeNames: [NODE],
    }),
  });
  const body = (await res.json()) as {
    NodeNames?: string[];
    FailedNodes?: Record<string, string>;
    FailedAndUnresolvableNodes?: Record<string, string>;
  };
  const reason = body.FailedNodes?.[NODE] ?? body.FailedAndUnresolvableNodes?.[NODE];
  return { passes: body.NodeNames?.includes(NODE) ?? false, ...(reason ? { reason } : {}) };
}

/** Creates PVCs of CLASS and waits until the extender's cache holds them (filter would say "retrying"). */
async function claims(sizes: Record<string, string>): Promise<void> {
  for (const [name, size] of Object.entries(sizes)) await apply(localPvc(NS, name, size, CLASS));
  await waitFor("the extender to see the new claims", async () => {
    const out = await filter("probe", Object.keys(sizes));
    return out.reason?.includes("not in the extender's cache") ? undefined : true;
  });
  // The probe's own hold (if it passed) ends with the short TTL before anything is measured.
  await cacheWhen("no live reservation", (c) => c.reservations.live === 0);
}

test.before(async () => {
  if (!enabled) return;
  ctx.dir = await mkdtemp(join(tmpdir(), "nls-orphans-e2e-"));
  const cluster = (ctx.cluster = await startDeployedCluster());
  await apply({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: NODE, labels: { "kubernetes.io/hostname": NODE } },
  });
  await cluster.kubectlOk(["create", "namespace", NS]);
  await apply({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: CLASS },
    provisioner: "local.csi.aliyun.com",
    parameters: { volumeType: "LVM", vgName: VG },
    volumeBindingMode: "WaitForFirstConsumer",
  });
  const dev = await createLoopDevice(ctx.dir, "disk.img", 1024);
  ctx.loops.push(dev);
  await sh("vgcreate", ["-s", "32m", VG, dev]);
  await applyInitConfig(cluster, { listConfig: { vgs: { include: ["nlsorph-.*"] } } });
  ctx.agent = await startAgent(cluster, NODE, { devices: ctx.loops, interval: "1s", log: ctx.agentLog });
  ctx.extender = await startExtender(cluster, await freePort(), {
    log: ctx.extenderLog,
    args: ["--reservation-ttl", "1s"],
    webhook: true,
  });
  await nlsWithVg(cluster, NODE, VG);
});

test.after.always(async () => {
  ctx.agent?.child.kill("SIGKILL");
  await ctx.extender?.stop();
  await removeVgsAndLoops([VG], ctx.loops);
  await rm(join("/etc/lvm/backup", VG), { force: true });
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
  await ctx.cluster?.stop();
});

test.afterEach.always((t) => {
  if (!t.passed) t.log([...ctx.agentLog.slice(-20), ...ctx.extenderLog.slice(-10)].join("\n"));
});

test("an LV no PV accounts for is in the NLS status and the extender counts it as used, exactly", async (t) => {
  const orphan = `local-orphan-${suffix}`;
  await lvcreate(orphan, "256m");

  const nls = await waitFor("the agent to report the LV", async () => {
    const o = await nlsWithVg(ctx.cluster, NODE, VG);
    const vg = o.status.nodeStorageInfo.volumeGroups.find((v: { name: string }) => v.name === VG);
    return vg?.logicalVolumes.some((l: { name: string }) => l.name === orphan) ? vg : undefined;
  });
  t.is(nls.extentSize, EXTENT, "the VG's real extent size is in the status");
  t.is(nls.total, VG_BYTES);
  t.is(nls.allocatable, VG_BYTES, "a managed LV counts in allocatable: the extender subtracts it");
  t.deepEqual(nls.logicalVolumes, [
    { name: orphan, vgname: VG, total: 256 * MI, readOnly: false, condition: "DiskReady", managed: true },
  ]);

  const c = await cacheWhen("the extender to charge the LV", (x) => charges(x).length > 0);
  t.deepEqual(charges(c), [{ lv: orphan, vg: VG, bytes: 256 * MI, why: "unexplained" }]);
  t.is(committed(c), 256 * MI);
  const metrics = await (await fetch(`http://127.0.0.1:${ctx.extender.port}/metrics`)).text();
  t.true(
    metrics.includes(`nls_extender_unexplained_lv_bytes{node="${NODE}",vg="${VG}"} ${256 * MI}`),
    metrics
      .split("\n")
      .filter((l) => l.includes("unexplained"))
      .join("\n"),
  );

  // What is left is 736 MiB: exactly that fits, one byte more does not.
  await claims({ "fits-all": `${736 * MI}`, "one-more": `${736 * MI + 1}` });
  t.deepEqual(await filter("over", ["one-more"]), {
    passes: false,
    reason: "insufficient local storage (LVM)",
  });
  t.true((await filter("exact", ["fits-all"])).passes);
});

test("an LV larger than its PV says (whole 32 MiB extents) is charged the excess; new volumes take whole extents", async (t) => {
  await cacheWhen("no live reservation", (c) => c.reservations.live === 0);
  const before = committed(await cache());
  // 40 MiB asked: LVM gives it two 32 MiB extents. The PV says 40Mi.
  const name = `local-${randomUUID()}`;
  await lvcreate(name, "40m");
  await apply(localPv(name, "40Mi"));
  const c = await cacheWhen("the extender to charge the LV's excess", (x) => charges(x).some((ch) => ch.lv === name));
  t.deepEqual(
    charges(c).find((ch) => ch.lv === name),
    { lv: name, vg: VG, bytes: 24 * MI, why: "excess", explainedBy: `pv ${name}` },
  );
  t.is(committed(c), before + 64 * MI, "the volume counts as LVM allocated it: 64 MiB, once");

  // Leave exactly two extents free with a PV that has no LV (as a PV whose node has not reported yet).
  const free = VG_BYTES - committed(c);
  await apply(localPv(`filler-${suffix}`, `${free - 2 * EXTENT}`));
  await cacheWhen("the filler PV counted", (x) => VG_BYTES - committed(x) === 2 * EXTENT);
  // Three 1 MiB volumes are 3 MiB of bytes, or three 4 MiB extents, but three 32 MiB extents here.
  await claims({ "small-0": "1Mi", "small-1": "1Mi", "small-2": "1Mi" });
  const three = await filter("three", ["small-0", "small-1", "small-2"]);
  t.false(three.passes);
  t.true((await filter("two", ["small-0", "small-1"])).passes, "two extents hold two of them");
  // No kube-controller-manager runs here to lift the pv-protection finalizer: the test does.
  await ctx.cluster.kubectlOk(["delete", "pv", `filler-${suffix}`, "--wait=false"]);
  await ctx.cluster.kubectlOk([
    "patch",
    "pv",
    `filler-${suffix}`,
    "--type=merge",
    "-p",
    '{"metadata":{"finalizers":null}}',
  ]);
  await cacheWhen("no live reservation", (x) => x.reservations.live === 0);
});

test("an LV made for a claim before its PV exists is counted once; once the claim lets go, it is charged", async (t) => {
  await cacheWhen("no live reservation", (c) => c.reservations.live === 0);
  const before = committed(await cache());
  // A claim kube-scheduler put on the node, of a class that names its VG: the CSI driver makes the LV
  // without asking, and the PV object comes after it.
  await apply({
    ...localPvc(NS, "inflight", "64Mi", CLASS),
    metadata: { namespace: NS, name: "inflight", annotations: { "volume.kubernetes.io/selected-node": NODE } },
  });
  const uid = JSON.parse(await ctx.cluster.kubectlOk(["get", "pvc", "-n", NS, "inflight", "-o", "json"])).metadata.uid;
  const lv = `local-${uid}`;
  await cacheWhen("the selected claim counted", (x) => committed(x) === before + 64 * MI);
  await lvcreate(lv, "64m");
  // The agent reports the LV and the extender's view of the node holds it: it is the claim's own.
  const settled = await cacheWhen("the extender to see the claim's LV", (x) =>
    (x.nodes[NODE]?.lvs ?? []).some((l) => l.name === lv),
  );
  t.is(settled.ledger.claims[`${NS}/inflight`]?.source, "selected");
  t.false(
    charges(settled).some((ch) => ch.lv === lv),
    "the claim accounts for its LV",
  );
  t.is(committed(settled), before + 64 * MI, "counted once");

  // external-provisioner gives the node back (selected-node removed): the LV stays, and is charged.
  await ctx.cluster.kubectlOk(["annotate", "pvc", "-n", NS, "inflight", "volume.kubernetes.io/selected-node-"]);
  const after = await cacheWhen("the LV charged", (x) => charges(x).some((ch) => ch.lv === lv));
  t.deepEqual(
    charges(after).find((ch) => ch.lv === lv),
    { lv, vg: VG, bytes: 64 * MI, why: "unexplained" },
  );
  t.is(committed(after), before + 64 * MI, "the bytes passed from the claim to the LV: still counted once");
});

test("an orphaned LV removed by the operator gives its space back", async (t) => {
  const orphan = `local-orphan-${suffix}`;
  const before = committed(await cache());
  await lvremove(orphan);
  const c = await cacheWhen("the charge gone", (x) => !charges(x).some((ch) => ch.lv === orphan));
  t.is(committed(c), before - 256 * MI);
  const metrics = await (await fetch(`http://127.0.0.1:${ctx.extender.port}/metrics`)).text();
  const line = metrics.split("\n").find((l) => l.startsWith(`nls_extender_unexplained_lv_bytes{node="${NODE}"`));
  // What is still charged: the claim's LV (64 MiB) and the excess of the 40 MiB volume (24 MiB).
  t.is(line, `nls_extender_unexplained_lv_bytes{node="${NODE}",vg="${VG}"} ${88 * MI}`);
});
