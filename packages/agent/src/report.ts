import {
  ANNOTATION_STORAGE_RESERVED,
  describePatternErrors,
  formatQuantity,
  selectStorage,
  type InitJournal,
  type NodeLocalStorageSpec,
  type NodeLocalStorageStatus,
  type StorageState,
} from "@nls/api";
import type { HostFacts } from "./discovery/host.js";
import { buildInventory, isManagedLv } from "./inventory.js";
import { journalProblems, reportedVgNames } from "./journal.js";

/**
 * The whole `NodeLocalStorageStatus` the agent would write, from host facts, the NLS spec and
 * annotations, and the current time. Pure: the loop and `nls-agent scan` both call it.
 */

export interface ReportOptions {
  lvPrefix: string;
  now: Date;
  /**
   * The status currently stored, if any: `state.lastTransitionTime` is carried over while the state
   * does not change, so it means what Kubernetes conditions mean by it.
   */
  previous?: NodeLocalStorageStatus;
  /** The journal to write (`nextJournal`); its missing VGs and leftovers are reported as problems. */
  journal?: InitJournal;
}

/** `state.type` as open-local writes it. */
export const STATE_TYPE = "DiskReady";
/** The state reason of a pass that could not read devices, LVM or mounts. */
export const DISCOVERY_FAILED = "DiscoveryFailed";

export function buildStatus(
  facts: HostFacts,
  nls: { spec?: NodeLocalStorageSpec; annotations?: Record<string, string> },
  opts: ReportOptions,
  initProblems: string[] = [],
): NodeLocalStorageStatus {
  const now = opts.now.toISOString();
  const inventory = buildInventory(facts, {
    lvPrefix: opts.lvPrefix,
    ...(nls.annotations?.[ANNOTATION_STORAGE_RESERVED] !== undefined
      ? { storageReserved: nls.annotations[ANNOTATION_STORAGE_RESERVED] }
      : {}),
  });
  // A part of the host that could not be read this time keeps its last reported state (flagged by
  // `state: False, DiscoveryFailed`) rather than vanishing: one LVM lock timeout must not empty a node.
  const last = opts.previous?.nodeStorageInfo;
  if (!facts.complete.lvm && last?.volumeGroups) inventory.volumeGroups = last.volumeGroups;
  if (!facts.complete.devices && last?.deviceInfo) inventory.deviceInfo = last.deviceInfo;
  if (!facts.complete.mounts && last?.mountPoints) inventory.mountPoints = last.mountPoints;

  const selection = selectStorage(nls.spec?.listConfig, {
    devices: inventory.deviceInfo.map((d) => d.name),
    vgs: inventory.volumeGroups.map((v) => v.name),
    mountPoints: inventory.mountPoints.map((m) => m.name),
  });
  const patternProblem = selection.errors.length > 0 ? describePatternErrors(selection.errors) : undefined;

  // A selected device that is in use is never offered: not to nls' extender, nor to any other reader of
  // filteredStorageInfo (open-local's extender hands out what it lists). Its reasons stay in deviceInfo.
  const inUse = new Map(inventory.deviceInfo.filter((d) => d.inUse?.length).map((d) => [d.name, d.inUse!]));
  const offeredDevices = selection.devices.filter((d) => !inUse.has(d));
  const devicesInUse = selection.devices
    .filter((d) => inUse.has(d))
    .map((d) => `${d} (${inUse.get(d)!.join("; ")})`)
    .join(", ");

  const selectedVgs = new Set(selection.volumeGroups);
  const selected = inventory.volumeGroups.filter((vg) => selectedVgs.has(vg.name));
  const allocatableBytes = selected.reduce((sum, vg) => sum + vg.allocatable, 0);
  // What is left of allocatable once the storage system's own LVs are taken out: the FREE column.
  const freeBytes = selected.reduce((sum, vg) => {
    const managed = vg.logicalVolumes.filter((lv) => isManagedLv(lv.name, opts.lvPrefix));
    return sum + Math.max(0, vg.allocatable - managed.reduce((s, lv) => s + lv.total, 0));
  }, 0);

  const wanted = new Set((nls.spec?.resourceToBeInited?.vgs ?? []).map((v) => v.name));
  const remembered = opts.journal ? journalProblems(opts.journal, facts, wanted) : [];
  const reported = reportedVgNames(facts);
  const vgMissing = facts.complete.lvm && (opts.journal?.seenVolumeGroups ?? []).some((name) => !reported.has(name));
  const state = buildState(facts, [...remembered, ...inventory.problems, ...initProblems], opts, vgMissing);

  return {
    nodeStorageInfo: {
      deviceInfo: inventory.deviceInfo,
      volumeGroups: inventory.volumeGroups,
      mountPoints: inventory.mountPoints,
      phase: "Running",
      state,
    },
    filteredStorageInfo: {
      volumeGroups: selection.volumeGroups,
      devices: offeredDevices,
      mountPoints: selection.mountPoints,
      updateStatusInfo: {
        lastUpdateTime: now,
        updateStatus: patternProblem ? "failed" : "accepted",
        ...(patternProblem ? { reason: patternProblem } : {}),
      },
    },
    summary: {
      volumeGroups: selection.volumeGroups.length,
      devices: offeredDevices.length,
      ...(devicesInUse ? { devicesInUse } : {}),
      allocatable: formatQuantity(allocatableBytes),
      allocatableBytes,
      free: formatQuantity(freeBytes),
      freeBytes,
    },
    ...(opts.journal ? { journal: opts.journal } : {}),
  };
}

/**
 * `True` when the picture is complete. `False` with reason `DiscoveryFailed` when devices, LVM or mounts
 * could not be read (their last reported state is kept, not zeroed). Problems that leave the picture intact
 * (a refused init, a bad reservation, one unprobeable device) keep `True` and are named in `message`;
 * a VG the node had and LVM no longer reports makes the reason `VolumeGroupMissing`.
 */
function buildState(facts: HostFacts, problems: string[], opts: ReportOptions, vgMissing: boolean): StorageState {
  const now = opts.now.toISOString();
  const failed = !facts.complete.devices || !facts.complete.lvm || !facts.complete.mounts;
  const status = failed ? "False" : "True";
  const messages = failed ? [...facts.errors, ...problems] : [...problems, ...facts.errors];
  const reason = failed
    ? DISCOVERY_FAILED
    : vgMissing
      ? "VolumeGroupMissing"
      : problems.length > 0
        ? "ConfigurationProblems"
        : facts.errors.length > 0
          ? "DiscoveryWarnings"
          : "Ready";
  const prev = opts.previous?.nodeStorageInfo?.state;
  const unchanged = prev?.type === STATE_TYPE && prev.status === status && prev.reason === reason;
  return {
    type: STATE_TYPE,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: unchanged && prev.lastTransitionTime ? prev.lastTransitionTime : now,
    reason,
    ...(messages.length > 0 ? { message: messages.join("; ") } : {}),
  };
}
