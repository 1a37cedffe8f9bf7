/**
 * The nodes' volume groups as LVM keeps them, for the CSI stand-in's node side (`createOnNode`): an LV
 * is created in the VG CreateVolume chose only when it has room, as `lvcreate` would. Its refusal has
 * no capital `Insufficient`, so the driver answers Internal and external-provisioner retries on the same
 * node: the PVC is stuck, not rescheduled — what happens in a real cluster when the extender's ledger
 * promised a VG more than it holds.
 */
import { GrpcError, type CreateVolumeResult } from "./open-local-csi.js";

const EXTENT = 4 * 2 ** 20;

export class NodeLvm {
  private readonly vgs = new Map<string, { size: number; lvs: Map<string, number> }>();
  /** lvcreate calls refused for lack of space. */
  refusals = 0;

  addVg(node: string, vg: string, bytes: number): void {
    this.vgs.set(`${node}/${vg}`, { size: bytes, lvs: new Map() });
  }

  /** The node plugin for an LVM volume (Device and MountPoint volumes are not modelled: always made). */
  readonly create = (r: CreateVolumeResult): void => {
    const vg = r.volumeContext.vgName;
    if (!vg) return;
    const g = this.vgs.get(`${r.node}/${vg}`);
    const fail = (why: string): never => {
      throw new GrpcError("Internal", `CreateVolume: fail to create lv ${r.volumeId} on node ${r.node}: ${why}`);
    };
    if (!g) fail(`Volume group "${vg}" not found`);
    if (g!.lvs.get(r.volumeId) === r.capacityBytes) return; // made by an earlier attempt
    let used = 0;
    for (const b of g!.lvs.values()) used += b;
    if (r.capacityBytes > g!.size - used) {
      this.refusals++;
      fail(
        `Volume group "${vg}" has insufficient free space (${Math.floor((g!.size - used) / EXTENT)} extents): ` +
          `${Math.ceil(r.capacityBytes / EXTENT)} required.`,
      );
    }
    g!.lvs.set(r.volumeId, r.capacityBytes);
  };
}
