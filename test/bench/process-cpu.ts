import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * CPU time of processes and of the whole machine, read from /proc (Linux): what each process of the
 * bench's control plane spends per pod decides the rate on a machine whose cores they share.
 */

/** The integer fields `numbers` (1-based, as proc(5) numbers them) of one `/proc/<pid>/stat` line. */
function statFields(line: string, numbers: number[]): number[] {
  // The comm field (2nd) is in parentheses and may itself hold spaces and parentheses; the fields after
  // the last ')' are fixed, from state (3rd) on.
  const end = line.lastIndexOf(")");
  if (end < 0) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(line.slice(0, 80))}`);
  const fields = line
    .slice(end + 1)
    .trim()
    .split(/\s+/);
  return numbers.map((n) => {
    const value = Number(fields[n - 3]);
    if (!Number.isInteger(value)) {
      throw new Error(`no field ${n} in /proc/<pid>/stat line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    return value;
  });
}

/** utime (14th field) + stime (15th) of one `/proc/<pid>/stat` line, in clock ticks. */
export function statCpuTicks(line: string): number {
  const [utime, stime] = statFields(line, [14, 15]);
  return utime! + stime!;
}

/** rss (24th field) of one `/proc/<pid>/stat` line, in pages. */
export function statRssPages(line: string): number {
  return statFields(line, [24])[0]!;
}

/**
 * The ticks every core spent busy, from `/proc/stat`'s first (`cpu`) line: user, nice, system, irq,
 * softirq and steal (guest time is already inside user and nice; idle and iowait are not busy).
 */
export function machineBusyTicks(procStat: string): number {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("no 'cpu' line in /proc/stat");
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = [user, nice, system, irq, softirq, steal ?? 0];
  if (busy.some((n) => n === undefined || !Number.isFinite(n))) throw new Error(`bad /proc/stat cpu line: ${line}`);
  return busy.reduce<number>((sum, n) => sum + n!, 0);
}

/** Name of what is measured → CPU seconds so far (a process not running is left out). */
export type CpuSample = Record<string, number>;

/** The machine's busy CPU in a sample: every process on it, ours and anyone else's. */
export const MACHINE = "machine";

/** Milliseconds of CPU per pod for each name in both samples, over `pods` pods; "others" = machine − ours. */
export function cpuMsPerPod(before: CpuSample, after: CpuSample, pods: number): Record<string, number> {
  const perPod: Record<string, number> = {};
  let ours = 0;
  for (const [name, end] of Object.entries(after)) {
    const start = before[name];
    if (start === undefined || name === MACHINE) continue;
    ours += end - start;
    perPod[name] = (1000 * (end - start)) / pods;
  }
  const machine = before[MACHINE] !== undefined && after[MACHINE] !== undefined;
  if (machine) perPod.others = (1000 * (after[MACHINE]! - before[MACHINE]! - ours)) / pods;
  return perPod;
}

const confs = new Map<string, number>();
/** A getconf variable (CLK_TCK, PAGESIZE), asked once; `fallback` if getconf gives no number. */
function conf(name: string, fallback: number): number {
  if (!confs.has(name)) {
    const answer = Number(execFileSync("getconf", [name], { encoding: "utf8" }).trim());
    confs.set(name, Number.isInteger(answer) && answer > 0 ? answer : fallback);
  }
  return confs.get(name)!;
}
const clockTicks = () => conf("CLK_TCK", 100);

/** CPU seconds of each named pid (those gone or undefined are left out) and of the whole machine. */
export function sampleCpu(pids: Record<string, number | undefined>): CpuSample {
  const hz = clockTicks();
  const sample: CpuSample = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (pid === undefined) continue;
    try {
      sample[name] = statCpuTicks(readFileSync(`/proc/${pid}/stat`, "utf8")) / hz;
    } catch {
      // Exited between the bench's look-up and this read: nothing to count.
    }
  }
  sample[MACHINE] = machineBusyTicks(readFileSync("/proc/stat", "utf8")) / hz;
  return sample;
}

/** Resident memory in MiB of each named pid (those gone or undefined are left out). */
export function sampleRssMiB(pids: Record<string, number | undefined>): Record<string, number> {
  const pageBytes = conf("PAGESIZE", 4096);
  const sample: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (pid === undefined) continue;
    try {
      sample[name] = (statRssPages(readFileSync(`/proc/${pid}/stat`, "utf8")) * pageBytes) / 2 ** 20;
    } catch {
      // Exited: nothing to count.
    }
  }
  return sample;
}
