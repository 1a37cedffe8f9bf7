import type { V1PersistentVolume } from "@kubernetes/client-node";
import { pvAllocation } from "./claims.js";
import type { Allocation } from "./ledger.js";
import { claimKey, isLocalPv, pvNode } from "./request.js";

/**
 * What the extender keeps of a PersistentVolume: flat fields, read once when the event arrives. A
 * decoded PV is a dozen nested objects (metadata, CSI attributes, node affinity terms) and, even with
 * what nothing reads let go of, ~1.3 KiB of heap; at 50,000 PVs those objects were over half the
 * extender's live heap. A record is a third of that, and the placement, the ledger, the webhook and the
 * metrics read nothing else.
 */
export interface PvRecord {
  readonly name: string;
  /** `uid` and `resourceVersion` under the names `isStale` reads, so a record compares like the object. */
  readonly uid: string | undefined;
  readonly resourceVersion: string | undefined;
  /** Provisioned by open-local's CSI driver. */
  readonly local: boolean;
  /** A local PV's node (its `kubernetes.io/hostname` affinity); undefined for another driver's PV. */
  readonly node: string | undefined;
  /** The space a local PV holds (`pvAllocation`). */
  readonly allocation: Allocation | undefined;
  readonly claimNamespace: string | undefined;
  readonly claimName: string | undefined;
  readonly claimUid: string | undefined;
  readonly phase: string | undefined;
}

export function pvRecord(pv: V1PersistentVolume): PvRecord | undefined {
  const name = pv.metadata?.name;
  if (!name) return undefined;
  const local = isLocalPv(pv);
  const ref = pv.spec?.claimRef;
  return {
    name,
    uid: pv.metadata?.uid,
    resourceVersion: pv.metadata?.resourceVersion,
    local,
    node: local ? pvNode(pv) : undefined,
    allocation: local ? pvAllocation(pv) : undefined,
    claimNamespace: ref?.name ? ref.namespace : undefined,
    claimName: ref?.name || undefined,
    claimUid: ref?.name ? ref.uid : undefined,
    phase: pv.status?.phase,
  };
}

/** The key (`namespace/name`) of the claim a PV was made for, if its claimRef names one. */
export const pvClaim = (pv: PvRecord): string | undefined =>
  pv.claimName ? claimKey(pv.claimNamespace || "default", pv.claimName) : undefined;

/** `isStale`'s view of a record: its uid and resourceVersion as an object's metadata. */
export const asVersioned = (pv: PvRecord | undefined): { metadata: PvRecord } | undefined => pv && { metadata: pv };
