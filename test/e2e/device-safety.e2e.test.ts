/**
 * Nothing a user stored is handed out or overwritten: the built `nls-agent` (node-bound token, deploy/'s
 * RBAC and admission policy) on real LVM over loop devices, and the built `nls-extender`, against a real
 * kube-apiserver. Dirty devices selected by listConfig are never offered and say why; a Device PV
 * recorded the open-local way holds its device; a VG whose disk disappears is not created again on the
 * blank disk that takes its name; PV labels an interrupted vgcreate left are finished after a restart;
 * a VG name LVM would read as an option never gets into the API.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gatedSerial } from "../gate.js";
import { e2eGate, freePort, run, startDeployedCluster, waitFor, type Cluster } from "./cluster.js";
import { agentScans, applyInitConfig, getNls, nlsWithVg } from "./agent-node.js";
import { startAgent, startExtender, type AgentProcess, type ExtenderProcess } from "./daemons.js";
import { localPod } from "./local-volumes.js";
import { createLoopDevice, lvmUnavailable, removeVgsAndLoops } from "./lvm.js";

const NODE = "e2e-safety-1";
const suffix = randomBytes(3).toString("hex");
const VG_A = `nlssafe-a-${suffix}`;
const VG_B = `nlssafe-b-${suffix}`;
const OTHER_VG = `nlssafe-other-${suffix}`;
const VG_IN_USE = `nlssafe-inuse-${suffix}`;

async function toolsMissing(): Promise<string | undefined> {
  const lvm = await lvmUnavailable();
  if (lvm) return lvm;
  for (const tool of ["mkfs.ext4", "mkfs.xfs", "mkswap", "sfdisk", "wipefs", "mount", "dd"]) {
    if ((await run("sh", ["-c", `command -v ${tool}`])).exitCode !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

const gate = await e2eGate();
const missing = await toolsMissing();
if (missing && process.env.NLS_REQUIRE_REAL_TOOLS === "1") throw new Error(`device-safety e2e needs: ${missing}`);
const enabled = gate.run && !missing;
if (!enabled) console.log(`# device-safety e2e skipped: ${gate.why ?? missing}`);
const test = gatedSerial(enabled);

const ctx = {
  loops: [] as string[],
  files: new Map<string, string>(),
  mounts: [] as string[],
  holders: [] as ChildProcess[],
  agentLog: [] as string[],
  extenderLog: [] as string[],
} as {
  cluster: Cluster;
  dir: string;
  agent: AgentProcess;
  extender: ExtenderProcess;
  loops: string[];
  files: Map<string, string>;
  mounts: string[];
  holders: ChildProcess[];
  agentLog: string[];
  extenderLog: string[];
  dev: Record<
    | "clean"
    | "forVg"
    | "ext4"
    | "xfs"
    | "swap"
    | "gpt"
    | "dos"
    | "otherPv"
    | "mounted"
    | "nodeBind"
    | "fileBind"
    | "held",
    string
  >;
  sums: Map<string, string>;
};

async function sh(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, {}, input);
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function loop(sizeMiB = 64): Promise<string> {
  const name = `disk-${ctx.loops.length}.img`;
  const dev = await createLoopDevice(ctx.dir, name, sizeMiB);
  ctx.loops.push(dev);
  ctx.files.set(dev, join(ctx.dir, name));
  return dev;
}

async function mount(dev: string, path: string): Promise<void> {
  await mkdir(path, { recursive: true });
  await sh("mount", [dev, path]);
  ctx.mounts.push(path);
}

/** Starts a process that keeps `dev` open for reading and writing until the suite ends. */
async function holdOpen(dev: string): Promise<void> {
  const holder = spawn("sh", ["-c", 'exec 3<>"$1" && exec sleep 3600', "sh", dev], { stdio: "ignore" });
  ctx.holders.push(holder);
  // Until sh has opened the device and become sleep, the device is not held yet.
  await waitFor(`a process holding ${dev} open`, async () =>
    (await readFile(`/proc/${holder.pid}/comm`, "utf8").catch(() => "")).trim() === "sleep" ? true : undefined,
  );
}

async function bindFile(source: string, target: string): Promise<void> {
  await writeFile(target, "");
  await sh("mount", ["--bind", source, target]);
  ctx.mounts.push(target);
}

/**
 * Copies `from` onto the whole device `dev`, through the device: a disk replaced in place. The loop
 * device is never detached, so no other process on this machine can take its name meanwhile. Then
 * `pvscan --cache`, as udev's LVM rule runs on a host when a disk appears: without it, LVM's device
 * hints (the set of devices is unchanged) would not look for a PV on `dev` again.
 */
async function overwriteDevice(dev: string, from: string): Promise<void> {
  await sh("dd", [`if=${from}`, `of=${dev}`, "bs=1M", "conv=fsync", "status=none"]);
  await sh("pvscan", ["--cache", dev]);
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function events(): Promise<Array<{ reason: string; message: string }>> {
  const list = JSON.parse(await ctx.cluster.kubectlOk(["get", "events", "-n", "kube-system", "-o", "json"]));
  return list.items.filter((e: { involvedObject?: { name?: string } }) => e.involvedObject?.name === NODE);
}

function startTheAgent(): Promise<AgentProcess> {
  return startAgent(ctx.cluster, NODE, { devices: ctx.loops, interval: "1s", log: ctx.agentLog });
}

test.before(async () => {
  if (!enabled) return;
  ctx.dir = await mkdtemp(join(tmpdir(), "nls-safety-e2e-"));
  const cluster = (ctx.cluster = await startDeployedCluster());
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: NODE, labels: { "kubernetes.io/hostname": NODE } },
    }),
  );

  // The node's disks: two clean ones, and each way a disk can hold data without nls' knowing.
  const dev = (ctx.dev = {
    clean: await loop(),
    forVg: await loop(),
    ext4: await loop(),
    xfs: await loop(320), // mkfs.xfs wants 300 MB at least
    swap: await loop(),
    gpt: await loop(),
    dos: await loop(),
    otherPv: await loop(),
    mounted: await loop(),
    nodeBind: await loop(),
    fileBind: await loop(),
    held: await loop(),
  });
  // No lazy init: the kernel would otherwise zero inode tables in the background after the mount.
  await sh("mkfs.ext4", ["-q", "-E", "lazy_itable_init=0,lazy_journal_init=0", dev.ext4]);
  await mount(dev.ext4, join(ctx.dir, "ext4"));
  await writeFile(join(ctx.dir, "ext4", "precious.txt"), `data ${suffix}\n`);
  await sh("umount", [ctx.mounts.pop()!]);
  await sh("mkfs.xfs", ["-q", dev.xfs]);
  await sh("mkswap", [dev.swap]);
  await sh("sfdisk", ["-q", "--no-reread", dev.gpt], "label: gpt\n"); // an empty GPT: no partition at all
  await sh("sfdisk", ["-q", "--no-reread", dev.dos], "label: dos\nstart=2048, size=16384, type=83\n");
  await sh("vgcreate", [OTHER_VG, dev.otherPv]);
  await sh("mkfs.ext4", ["-q", dev.mounted]);
  await mount(dev.mounted, join(ctx.dir, "busy"));
  await bindFile(dev.nodeBind, join(ctx.dir, "raw-volume")); // a raw block volume as kubelet publishes it
  await bindFile(ctx.files.get(dev.fileBind)!, join(ctx.dir, "image-elsewhere"));
  await holdOpen(dev.held); // a program writing the raw disk: no signature, no mount, an open descriptor
  // The mounted filesystem is the kernel's to change (its journal): every other dirty device keeps its bytes.
  ctx.sums = new Map();
  for (const d of [dev.ext4, dev.xfs, dev.swap, dev.gpt, dev.dos, dev.otherPv, dev.nodeBind, dev.fileBind, dev.held]) {
    ctx.sums.set(d, await sha256(d));
  }

  await applyInitConfig(cluster, {
    listConfig: { vgs: { include: ["nlssafe-.*"] }, devices: { include: ["/dev/loop[0-9]+"] } },
    resourceToBeInited: {
      vgs: [
        { name: VG_A, devices: [dev.forVg] },
        // In use, with no signature at all: pvcreate's exclusive open would not stop this one.
        { name: VG_IN_USE, devices: [dev.nodeBind, dev.fileBind] },
      ],
    },
  });
  ctx.agent = await startTheAgent();
  // With deploy/'s admission webhook, which a pod with a claim goes through.
  ctx.extender = await startExtender(cluster, await freePort(), { log: ctx.extenderLog, webhook: true });
});

test.after.always(async () => {
  ctx.agent?.child.kill("SIGKILL");
  await ctx.extender?.stop();
  for (const h of ctx.holders) h.kill("SIGKILL");
  for (const m of ctx.mounts.reverse()) await run("umount", [m]);
  await removeVgsAndLoops([VG_A, VG_B, OTHER_VG, VG_IN_USE], ctx.loops);
  for (const vg of [VG_A, VG_B, OTHER_VG, VG_IN_USE]) await rm(join("/etc/lvm/backup", vg), { force: true });
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
  await ctx.cluster?.stop();
});

test.afterEach.always((t) => {
  if (!t.passed) t.log([...ctx.agentLog.slice(-20), ...ctx.extenderLog.slice(-10)].join("\n"));
});

test("dirty devices selected by listConfig are never offered and say why; the VG is made on its clean device only", async (t) => {
  const { dev } = ctx;
  const nls = await nlsWithVg(ctx.cluster, NODE, VG_A);
  t.deepEqual(nls.status.filteredStorageInfo.devices, [dev.clean], "only the clean, unused device is offered");
  const inUse = new Map<string, string[]>(
    nls.status.nodeStorageInfo.deviceInfo.map((d: { name: string; inUse?: string[] }) => [d.name, d.inUse]),
  );
  t.is(inUse.get(dev.clean), undefined);
  t.deepEqual(inUse.get(dev.forVg), [`is a physical volume of VG ${VG_A}`]);
  t.regex(inUse.get(dev.ext4)!.join("; "), /^carries filesystem ext4 /);
  t.regex(inUse.get(dev.xfs)!.join("; "), /^carries filesystem xfs /);
  t.regex(inUse.get(dev.swap)!.join("; "), /^carries filesystem swap /);
  t.regex(inUse.get(dev.gpt)!.join("; "), /^carries partition table gpt at offset 0x200, /);
  t.deepEqual(inUse.get(dev.dos), ["carries partition table dos at offset 0x1fe"]);
  t.deepEqual(inUse.get(dev.otherPv), [`is a physical volume of VG ${OTHER_VG}`]);
  t.regex(inUse.get(dev.mounted)!.join("; "), /^is mounted at .*\/busy$/);
  t.regex(inUse.get(dev.nodeBind)!.join("; "), /^its device node is bind-mounted at .*\/raw-volume$/);
  t.deepEqual(inUse.get(dev.held), [`is open by process ${ctx.holders[0]!.pid} (sleep)`]);
  t.regex(inUse.get(dev.fileBind)!.join("; "), /^its backing file .* is also mounted at .*\/image-elsewhere$/);
  t.deepEqual(nls.status.nodeStorageInfo.volumeGroups.find((v: { name: string }) => v.name === VG_A).physicalVolumes, [
    dev.forVg,
  ]);
  t.true(nls.status.journal.seenVolumeGroups.includes(VG_A));

  // kubectl get nls -o wide shows them, with the reasons.
  const wide = await ctx.cluster.kubectlOk(["get", "nls", NODE, "-o", "wide"]);
  t.regex(wide.split("\n")[0]!, /\bDEVICESINUSE\b/);
  t.true(wide.includes(`${dev.nodeBind} (its device node is bind-mounted at`), wide);

  // The VG asked for on the two devices in use without a signature is refused, with an Event saying why.
  const refused = await waitFor("the InitRefused Event of the VG on devices in use", async () =>
    (await events()).find((e) => e.reason === "InitRefused" && e.message.includes(`VG ${VG_IN_USE}`)),
  );
  t.regex(refused.message, new RegExp(`${dev.nodeBind}: its device node is bind-mounted at .*/raw-volume`));
  t.regex(refused.message, new RegExp(`${dev.fileBind}: its backing file .* is also mounted at .*/image-elsewhere`));
  t.true(
    (await getNls(ctx.cluster, NODE)).status.nodeStorageInfo.state.message.includes(`VG ${VG_IN_USE}`),
    "the refusal is in the status",
  );
  t.not((await run("vgs", [VG_IN_USE])).exitCode, 0);

  for (const [d, sum] of ctx.sums) t.is(await sha256(d), sum, `${d} unchanged`);
});

test("a Device PV recorded the open-local way holds its device: another namespace's PVC is not given it", async (t) => {
  const { cluster, dev } = ctx;
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "nls-safety-device" },
      provisioner: "local.csi.aliyun.com",
      parameters: { volumeType: "Device" },
      volumeBindingMode: "WaitForFirstConsumer",
    }),
  );
  // What open-local's CSI driver writes for a Device volume: no nls annotation, the disk in volumeAttributes.
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `pv-ol-${suffix}` },
      spec: {
        capacity: { storage: "64Mi" },
        accessModes: ["ReadWriteOnce"],
        storageClassName: "nls-safety-device",
        claimRef: { namespace: "team-a", name: "data" },
        csi: {
          driver: "local.csi.aliyun.com",
          volumeHandle: `pv-ol-${suffix}`,
          volumeAttributes: { volumeType: "Device", Device: dev.clean },
        },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [NODE] }] },
            ],
          },
        },
      },
    }),
  );
  const base = `http://127.0.0.1:${ctx.extender.debugPort}`; // the debug views' loopback address
  const state = await waitFor("the extender to see the device bound", async () => {
    const cache = (await (await fetch(`${base}/cache?nodeName=${NODE}`)).json()) as {
      nodes: Record<string, { devices: Array<{ name: string; state: string; claim?: string }> } | undefined>;
    };
    const d = cache.nodes[NODE]?.devices.find((x: { name: string }) => x.name === dev.clean);
    return d?.state === "bound" ? d : undefined;
  });
  t.is(state.claim, `pv:pv-ol-${suffix}`);

  await cluster.kubectlOk(["create", "namespace", "team-b"]);
  await cluster.kubectlOk(["create", "serviceaccount", "default", "-n", "team-b"]);
  // A claim kube-scheduler put on this node for a pod that waits: what the reserve route acts on.
  await cluster.kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { namespace: "team-b", name: "db", annotations: { "volume.kubernetes.io/selected-node": NODE } },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "nls-safety-device",
        resources: { requests: { storage: "16Mi" } },
      },
    }),
  );
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(localPod("team-b", "db-0", ["db"])));
  // The CSI driver's reserve call for that PVC on this node: the one free-looking device is taken.
  const publicBase = `http://127.0.0.1:${ctx.extender.port}`;
  const answer = await waitFor("the reserve call to see the PVC", async () => {
    const r = await fetch(
      `${publicBase}/apis/scheduling/team-b/persistentvolumeclaims/db?nodeName=${NODE}&volumeType=Device`,
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
      },
    );
    return r.status === 404 || r.status === 409 ? undefined : { status: r.status, text: await r.text() };
  });
  t.is(answer.status, 500);
  // Not granted, and the refusal names what holds the only device.
  t.regex(
    answer.text,
    /^Insufficient Device storage on node .*: no free devices for any ≥ 16Mi \(free devices: none\)/,
  );
  t.true(answer.text.includes(`held by pv pv-ol-${suffix} 64Mi (${dev.clean})`), answer.text);
});

test("a VG whose disk disappears is not created again on the blank disk that takes its name", async (t) => {
  const { dev } = ctx;
  // The disk goes and a blank one takes its name: its bytes are kept aside, then zeroed in place.
  const oldDisk = join(ctx.dir, "old-disk.img");
  await sh("dd", [`if=${dev.forVg}`, `of=${oldDisk}`, "bs=1M", "conv=sparse", "status=none"]);
  const blank = join(ctx.dir, "blank.img");
  await sh("truncate", ["-s", "64M", blank]);
  await overwriteDevice(dev.forVg, blank);
  let restored = false;
  t.teardown(async () => {
    if (!restored) await overwriteDevice(dev.forVg, oldDisk);
  });
  const blankSum = await sha256(dev.forVg);

  const nls = await waitFor("VolumeGroupMissing", async () => {
    const o = await getNls(ctx.cluster, NODE);
    return o?.status?.nodeStorageInfo?.state?.reason === "VolumeGroupMissing" ? o : undefined;
  });
  t.regex(
    nls.status.nodeStorageInfo.state.message,
    new RegExp(`VG ${VG_A} was on this node and LVM does not report it now`),
  );
  const refusal = await waitFor("the InitRefused Event", async () =>
    (await events()).find((e) => e.reason === "InitRefused" && e.message.includes(`VG ${VG_A} existed on this node`)),
  );
  t.regex(refusal.message, /it is not created again on other disks/);
  // Several passes later the blank disk is still blank and no VG of that name exists.
  const from = await agentScans(ctx.agent.metricsUrl);
  await waitFor("three more passes", async () =>
    (await agentScans(ctx.agent.metricsUrl)) >= from + 3 ? true : undefined,
  );
  t.is(await sha256(dev.forVg), blankSum, "the blank disk is untouched");
  t.not((await run("vgs", [VG_A])).exitCode, 0);

  // The old disk comes back: the VG is there again, and nothing was duplicated.
  await overwriteDevice(dev.forVg, oldDisk);
  restored = true;
  const back = await waitFor("the VG back", async () => {
    const o = await getNls(ctx.cluster, NODE);
    return o?.status?.nodeStorageInfo?.state?.reason !== "VolumeGroupMissing" &&
      o?.status?.filteredStorageInfo?.volumeGroups?.includes(VG_A)
      ? o
      : undefined;
  });
  t.deepEqual(back.status.nodeStorageInfo.volumeGroups.filter((v: { name: string }) => v.name === VG_A).length, 1);
});

test("PV labels an interrupted vgcreate left are finished when the agent starts again", async (t) => {
  const { cluster } = ctx;
  ctx.agent.child.kill("SIGKILL");
  await ctx.agent.exited;
  const [c3, c4] = [await loop(), await loop()];
  // The stored state of a crash inside vgcreate: the intent recorded in the status, one PV labelled.
  await cluster.kubectlOk([
    "patch",
    "nls",
    NODE,
    "--type=merge",
    "-p",
    JSON.stringify({
      spec: {
        resourceToBeInited: {
          vgs: [
            { name: VG_A, devices: [ctx.dev.forVg] },
            { name: VG_B, devices: [c3, c4] },
          ],
        },
      },
    }),
  ]);
  const seen = (await getNls(ctx.cluster, NODE)).status.journal.seenVolumeGroups;
  await cluster.kubectlOk([
    "patch",
    "nls",
    NODE,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status: { journal: { seenVolumeGroups: seen, creating: [{ name: VG_B, devices: [c3, c4] }] } } }),
  ]);
  await sh("pvcreate", ["-q", c3!]);

  ctx.agent = await startTheAgent();
  const nls = await nlsWithVg(ctx.cluster, NODE, VG_B);
  t.deepEqual(
    nls.status.nodeStorageInfo.volumeGroups.find((v: { name: string }) => v.name === VG_B).physicalVolumes,
    [c3, c4].sort(),
  );
  t.is(
    (nls.status.journal.creating ?? []).find((i: { name: string }) => i.name === VG_B),
    undefined,
    "the record is done with",
  );
  t.truthy(
    await waitFor("VolumeGroupCreated", async () =>
      (await events()).find((e) => e.reason === "VolumeGroupCreated" && e.message.includes(VG_B)),
    ),
  );
});

test("a VG name LVM would read as an option is refused by the API server, naming the rule", async (t) => {
  const r = await ctx.cluster.kubectl([
    "patch",
    "nls",
    NODE,
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { resourceToBeInited: { vgs: [{ name: "--test", devices: [ctx.dev.clean] }] } } }),
  ]);
  t.not(r.exitCode, 0);
  t.regex(r.stderr, /spec\.resourceToBeInited\.vgs\[0\]\.name: Invalid value: "--test": .*should match/);
  const stored = await getNls(ctx.cluster, NODE);
  t.false(JSON.stringify(stored.spec).includes("--test"));
  t.not((await run("vgs", ["--", "--test"])).exitCode, 0);
});
