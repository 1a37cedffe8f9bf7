import type { HostFacts } from "./discovery/host.js";
import type { BlockDevice } from "./discovery/lsblk.js";
import { bindMountsOfFile, deviceNodeBinds } from "./discovery/mounts.js";
import { describeOpeners } from "./discovery/openers.js";
import { describeSignature, type Signature } from "./discovery/signatures.js";

/**
 * Whether a block device is free: the one rule behind VG and mount point initialisation and behind
 * offering a device for a Device volume. A device is free only when nothing suggests it holds or
 * serves anything; a fact that could not be read counts against it.
 */

/** Device types nls builds on. LVs, dm and md devices are someone else's stacking. */
const USABLE_TYPES = new Set(["disk", "part", "loop"]);

/** What the caller itself wrote on a device and may find there again. */
export interface OwnWork {
  /** A signature of its own (the labelled filesystem of a mount point, to mount it again after a reboot). */
  signature?: (sig: Signature) => boolean;
  /**
   * The device carries a PV label of no VG that an interrupted `vgcreate` of the agent's left (the
   * journal recorded it): not in use, if the PV has a metadata area (one without could be a PV of a VG
   * whose other PVs are missing).
   */
  orphanPv?: boolean;
}

/**
 * Why `d` is not free, one reason per finding, worded to follow the device's name ("is mounted at /x");
 * empty when it is free. `own` exempts what the caller itself wrote.
 */
export function deviceUse(d: BlockDevice, facts: HostFacts, own: OwnWork = {}): string[] {
  const out: string[] = [];
  if (!USABLE_TYPES.has(d.type)) out.push(`is a ${d.type} device, not a disk or partition`);
  if (d.readOnly) out.push("is read-only");
  if (d.size === 0) out.push("has size 0");
  if (d.mountpoints.length > 0) out.push(`is mounted at ${d.mountpoints.join(", ")}`);
  else if (!facts.complete.mounts) out.push("mount state unknown (mounts could not be read)");
  const binds = nodeBinds(facts).get(d.name);
  if (binds) out.push(`its device node is bind-mounted at ${binds.join(", ")}`);
  const parts = d.children.filter((c) => c.type === "part").map((c) => c.name);
  const holders = d.children.filter((c) => c.type !== "part").map((c) => `${c.name} (${c.type})`);
  if (parts.length > 0) out.push(`has partitions ${parts.join(", ")}`);
  if (holders.length > 0) out.push(`is in use by ${holders.join(", ")}`);
  out.push(...loopUse(d, facts));
  const pv = facts.lvm.pvs.find((p) => p.name === d.name);
  const ownPv = pv !== undefined && own.orphanPv === true && pv.vgName === "" && pv.mdaCount >= 1;
  if (pv && !ownPv)
    out.push(pv.vgName ? `is a physical volume of VG ${pv.vgName}` : "is already an LVM physical volume");
  const probeError = facts.probeErrors[d.name];
  const sigs = facts.signatures[d.name]?.filter((sig) => !own.signature?.(sig));
  if (probeError !== undefined) out.push(`signatures unknown (${probeError})`);
  else if (sigs === undefined && d.mountpoints.length === 0) out.push("signatures were not probed");
  else if (sigs && sigs.length > 0 && !pv) out.push(`carries ${sigs.map(describeSignature).join(", ")}`);
  if (out.length === 0) {
    // Asked only about devices nothing else marks (discoverHost): the last trace of a raw device's user.
    if (facts.openers === undefined) out.push("open state unknown (processes could not be read)");
    else out.push(...describeOpeners(facts.openers, d.majMin));
  }
  return out;
}

/**
 * A loop device is only as free as its backing file: another loop device over the same file, or a
 * bind mount of it, means someone else reads and writes those bytes. And any device may itself be the
 * backing device of a loop device.
 */
function loopUse(d: BlockDevice, facts: HostFacts): string[] {
  const out: string[] = [];
  if (facts.loops === undefined) {
    if (d.type === "loop") out.push("backing file unknown (loop devices could not be listed)");
    return out;
  }
  const self = facts.loops.find((l) => l.name === d.name);
  if (d.type === "loop" && self) {
    const file = self.backFile;
    const twins = facts.loops.filter(
      (l) => l.name !== d.name && l.backIno === self.backIno && l.backMajMin === self.backMajMin,
    );
    if (twins.length > 0) out.push(`its backing file ${file} also backs ${twins.map((l) => l.name).join(", ")}`);
    const node =
      facts.devices.some((x) => x.name === file) ||
      file in facts.aliases ||
      facts.mounts.some((m) => (m.path === "/dev" || m.fsType === "devtmpfs") && m.majMin === self.backMajMin);
    if (node) out.push(`its backing file ${file} is a device node`);
    const mounted = bindMountsOfFile(facts.mounts, file, self.backMajMin);
    if (mounted.includes(file)) out.push(`its backing file ${file} is a bind mount`);
    const elsewhere = mounted.filter((p) => p !== file);
    if (elsewhere.length > 0) out.push(`its backing file ${file} is also mounted at ${elsewhere.join(", ")}`);
  }
  const names = new Set([
    d.name,
    ...Object.entries(facts.aliases)
      .filter(([, t]) => t === d.name)
      .map(([a]) => a),
  ]);
  for (const p of nodeBinds(facts).get(d.name) ?? []) names.add(p);
  const over = facts.loops.filter((l) => l.name !== d.name && names.has(l.backFile)).map((l) => l.name);
  if (over.length > 0) out.push(`backs loop device ${over.join(", ")}`);
  return out;
}

const bindCache = new WeakMap<HostFacts["mounts"], Map<string, string[]>>();

function nodeBinds(facts: HostFacts): Map<string, string[]> {
  let binds = bindCache.get(facts.mounts);
  if (!binds) bindCache.set(facts.mounts, (binds = deviceNodeBinds(facts.mounts)));
  return binds;
}
