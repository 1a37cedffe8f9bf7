/* global performance, global */
// `pnpm bench` (agent): one host scan as the agent runs it (the built `realHost`), on 16 loop devices,
// 4 VGs (two devices each) and 500 LVs whose metadata lvcreate writes without activating them. Prints
// the scan time, the commands it ran (LVM ones apart, counted at the agent's exec edge) and the RSS of
// this process after the scans; writes the figures as JSON under bench/results/. Needs root, lvm2 and
// losetup; otherwise it says why and exits 0. Everything it creates (sparse files, loop devices, VGs)
// is removed at the end, also after a failure. BENCH_LVS and BENCH_SCANS tune it. With NLS_BENCH_DIR
// set (the root `pnpm bench`), it also writes the figures, or {"skipped": why}, to that dir's scan.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
const rssBeforeImport = process.memoryUsage().rss / 2 ** 20;
const { execaRunner, realHost } = await import("../dist/index.js");
global.gc?.();
const rssAfterImport = process.memoryUsage().rss / 2 ** 20;

const LVS = Number(process.env.BENCH_LVS ?? 500);
const SCANS = Number(process.env.BENCH_SCANS ?? 10);
const DEVICES = 16;
const VGS = 4;
const NO_ACTIVATION = ["--config", "global { activation = 0 }"];
const runner = execaRunner({ timeoutMs: 120_000 });

async function whyNot() {
  if (process.getuid?.() !== 0) return "not running as root";
  for (const tool of ["lvm", "losetup", "lsblk"]) {
    if ((await runner.run("sh", ["-c", `command -v ${tool}`])).exitCode !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

const skip = await whyNot();
if (skip) {
  console.log(`agent scan bench skipped: ${skip}`);
  if (process.env.NLS_BENCH_DIR)
    writeFileSync(join(process.env.NLS_BENCH_DIR, "scan.json"), `${JSON.stringify({ skipped: skip })}\n`);
  process.exit(0);
}

async function sh(cmd, args) {
  const r = await runner.run(cmd, args);
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
}

const dir = await mkdtemp(join(os.tmpdir(), "nls-bench-"));
const loops = [];
const vgs = [];
const suffix = randomBytes(3).toString("hex");
async function cleanup() {
  for (const vg of vgs) {
    await runner.run("vgremove", [...NO_ACTIVATION, "-f", vg]);
    await rm(join("/etc/lvm/backup", vg), { force: true });
  }
  for (const l of loops) {
    await runner.run("pvremove", ["-f", l]);
    await runner.run("losetup", ["-d", l]);
  }
  await rm(dir, { recursive: true, force: true });
}
process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));

try {
  const setupStart = performance.now();
  for (let i = 0; i < DEVICES; i++) {
    const file = join(dir, `disk-${i}.img`);
    const fh = await open(file, "w");
    await fh.truncate(1024 * 2 ** 20);
    await fh.close();
    loops.push((await sh("losetup", ["-f", "--show", file])).trim());
  }
  for (let v = 0; v < VGS; v++) {
    const vg = `nlsbench-${suffix}-${v}`;
    vgs.push(vg);
    await sh("vgcreate", [...NO_ACTIVATION, vg, loops[2 * v], loops[2 * v + 1]]);
  }
  // One lvcreate at a time per VG (LVM locks the VG), the VGs in parallel.
  await Promise.all(
    vgs.map(async (vg, v) => {
      for (let i = v; i < LVS; i += VGS) {
        await sh("lvcreate", [...NO_ACTIVATION, "-an", "-Zn", "-L", "4M", "-n", `local-bench-${i}`, vg]);
      }
    }),
  );
  const setupS = (performance.now() - setupStart) / 1000;

  const calls = [];
  const counting = {
    run: (cmd, args, opts) => {
      calls.push(cmd);
      return runner.run(cmd, args, opts);
    },
  };
  const host = realHost(counting, {
    deviceGlobs: loops,
    mountRoot: join(dir, "mnt"),
    lvPrefix: "local",
    timeoutMs: 120_000,
  });
  const isLvm = (cmd) => cmd === "lvm" || /^(pv|vg|lv)[a-z]+$/.test(cmd);
  await host.discover(); // warm-up: the first scan loads code
  const scans = [];
  for (let s = 0; s < SCANS; s++) {
    calls.length = 0;
    const start = performance.now();
    const facts = await host.discover();
    const ms = performance.now() - start;
    const lvs = facts.lvm.lvs.filter((l) => vgs.includes(l.vgName)).length;
    if (lvs !== LVS || !facts.complete.lvm)
      throw new Error(`scan saw ${lvs} of ${LVS} LVs: ${facts.errors.join("; ")}`);
    scans.push({ ms, commands: calls.length, lvm: calls.filter(isLvm).length, byCommand: count(calls) });
  }
  global.gc?.();
  const memory = process.memoryUsage();
  const rssMiB = memory.rss / 2 ** 20;
  console.log(
    `heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB, heap total ${(memory.heapTotal / 2 ** 20).toFixed(0)} MiB, external ${(memory.external / 2 ** 20).toFixed(0)} MiB, array buffers ${(memory.arrayBuffers / 2 ** 20).toFixed(0)} MiB`,
  );
  const sorted = scans.map((s) => s.ms).sort((a, b) => a - b);
  const figures = {
    devices: DEVICES,
    vgs: VGS,
    lvs: LVS,
    setupSeconds: setupS,
    scanMs: { median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1), all: scans.map((s) => s.ms) },
    commandsPerScan: scans[0].byCommand,
    lvmInvocationsPerScan: Math.max(...scans.map((s) => s.lvm)),
    rssMiBBeforeImport: rssBeforeImport,
    rssMiBAfterImport: rssAfterImport,
    rssMiBAfterScans: rssMiB,
    gcExposed: typeof global.gc === "function",
  };
  console.log(
    `\nagent scan: ${DEVICES} loop devices, ${VGS} VGs, ${LVS} LVs (set up in ${setupS.toFixed(0)} s), ${SCANS} scans after a warm-up`,
  );
  console.log(
    `scan time: median ${figures.scanMs.median.toFixed(0)} ms, max ${figures.scanMs.max.toFixed(0)} ms; commands per scan: ${Object.entries(
      figures.commandsPerScan,
    )
      .map(([c, n]) => `${c} ×${n}`)
      .join(", ")} (LVM: ${figures.lvmInvocationsPerScan})`,
  );
  console.log(
    `RSS of this process: ${rssBeforeImport.toFixed(0)} MiB bare, ${rssAfterImport.toFixed(0)} MiB with the agent's modules loaded (the Kubernetes client among them), ${rssMiB.toFixed(0)} MiB after the scans${figures.gcExposed ? " and a full GC" : ""}`,
  );
  console.log(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")} on ${os.cpus().length} CPUs, Node ${process.version}`,
  );
  const out = new URL("./results/", import.meta.url);
  mkdirSync(out, { recursive: true });
  const file = new URL(`scan-${new Date().toISOString().replace(/[:.]/g, "-")}.json`, out);
  const json = `${JSON.stringify({ machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, date: new Date().toISOString(), loadavg: os.loadavg() }, ...figures }, null, 2)}\n`;
  writeFileSync(file, json);
  console.log(`figures written to ${fileURLToPath(file)}`);
  if (process.env.NLS_BENCH_DIR) writeFileSync(join(process.env.NLS_BENCH_DIR, "scan.json"), json);
} finally {
  await cleanup();
}

function count(list) {
  const out = {};
  for (const c of list) out[c] = (out[c] ?? 0) + 1;
  return out;
}
