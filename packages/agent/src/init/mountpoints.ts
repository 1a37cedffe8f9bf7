import type { MountPointToBeInited } from "@nls/api";
import type { HostFacts } from "../discovery/host.js";
import { deviceRefusals, resolveDevice, type PlannedCommand } from "./safety.js";

/**
 * `resourceToBeInited.mountpoints` → what to do: make a filesystem on an empty device and mount it at
 * the path. The device rules are the VG rules (`deviceRefusals`). The filesystem gets the label
 * `NLS_FS_LABEL`, so after a reboot the agent recognises its own filesystem and mounts it again,
 * while any other filesystem on the device still refuses it. Nothing is written to /etc/fstab.
 */

/** ≤ 12 characters, the XFS limit. */
export const NLS_FS_LABEL = "nls-local";

/** Filesystems nls makes, with the mkfs arguments that set the label. */
const MKFS: Record<string, (device: string) => PlannedCommand> = {
  ext4: (d) => ({ cmd: "mkfs.ext4", args: ["-q", "-L", NLS_FS_LABEL, "--", d] }),
  ext3: (d) => ({ cmd: "mkfs.ext3", args: ["-q", "-L", NLS_FS_LABEL, "--", d] }),
  xfs: (d) => ({ cmd: "mkfs.xfs", args: ["-q", "-L", NLS_FS_LABEL, "--", d] }),
};

export interface MountpointPlan {
  path: string;
  device: string;
  fsType: string;
  options: string[];
  /**
   * `create`: mkfs, then mount. `mount`: the device already holds nls' own labelled filesystem; mount
   * it. `exists`: mounted there already. `refused`: see `reasons`; nothing runs.
   */
  action: "create" | "mount" | "exists" | "refused";
  reasons: string[];
  /** In order: `mkfs.*` (for `create`), then `mount`. `applyMountpoints` adds its own last-moment checks. */
  commands: PlannedCommand[];
}

export function planMountpoints(
  wanted: MountPointToBeInited[],
  facts: HostFacts,
  claimed: Map<string, string>,
  mountRoot: string,
): MountpointPlan[] {
  const paths = new Set<string>();
  return wanted.map((want) => {
    const fsType = want.fsType ?? "ext4";
    const options = want.options ?? [];
    const base = { path: want.path, device: want.device, fsType, options };
    const refuse = (reasons: string[]): MountpointPlan => ({ ...base, action: "refused", reasons, commands: [] });

    const real = resolveDevice(want.device, facts);
    const device = facts.devices.find((d) => d.name === real);
    const reasons = pathRefusals(want.path, mountRoot);
    if (reasons.length === 0 && device?.mountpoints.includes(want.path)) {
      return { ...base, action: "exists", reasons: [], commands: [] };
    }

    if (paths.has(want.path)) reasons.push(`${want.path}: listed twice`);
    paths.add(want.path);
    const mkfs = MKFS[fsType];
    if (!mkfs) reasons.push(`fsType ${fsType} is not supported (use ${Object.keys(MKFS).join(", ")})`);
    if (options.some((o) => o.includes(",") || o.trim() === "")) reasons.push(`options must be single mount options`);
    const covering = facts.mounts.filter((m) => m.path === want.path);
    if (covering.length > 0) reasons.push(`${want.path}: is already a mount point of ${covering.at(-1)!.source}`);
    const other = claimed.get(real);
    if (other !== undefined) reasons.push(`${want.device}: also listed for ${other}`);
    else claimed.set(real, `mount point ${want.path}`);
    const ours = (sig: { type: string; label?: string }) => sig.type === fsType && sig.label === NLS_FS_LABEL;
    reasons.push(...deviceRefusals(want.device, facts, { signature: ours }));
    if (reasons.length > 0 || !mkfs) return refuse(reasons);

    const mount: PlannedCommand = {
      cmd: "mount",
      args: ["-t", fsType, ...(options.length > 0 ? ["-o", options.join(",")] : []), "--", real, want.path],
    };
    const formatted = (facts.signatures[real] ?? []).some(ours);
    return formatted
      ? { ...base, action: "mount", reasons: [], commands: [mount] }
      : { ...base, action: "create", reasons: [], commands: [mkfs(real), mount] };
  });
}

/** A mount path must be normalised and strictly below `--mount-root`, where nls' mount points live. */
function pathRefusals(path: string, mountRoot: string): string[] {
  if (!path.startsWith("/")) return [`${path}: mount path must be absolute`];
  const parts = path.split("/").slice(1);
  if (path === "/" || parts.some((p) => p === "" || p === "." || p === "..")) {
    return [`${path}: mount path must be a normalised absolute path below /`];
  }
  const root = mountRoot.replace(/\/+$/, "");
  if (root === "" || !path.startsWith(`${root}/`)) {
    return [`${path}: mount path must be below --mount-root ${mountRoot}`];
  }
  return [];
}
