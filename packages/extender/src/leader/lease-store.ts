import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { withDeadline } from "./deadline.js";
import type { LeaseRecord } from "./election.js";
import { LeaseWriteConflict, type LeaseStore, type StoredLease } from "./elector.js";

/** The election Lease `namespace/name` through client-node; each call gives up after `timeoutMs`. */
export function kubeLeaseStore(kc: KubeConfig, namespace: string, name: string, timeoutMs: number): LeaseStore {
  const api = kc.makeApiClient(CoordinationV1Api);
  const ref = `${namespace}/${name}`;
  const bounded = <T>(what: string, p: Promise<T>): Promise<T> => withDeadline(`${what} lease ${ref}`, p, timeoutMs);
  const body = (record: LeaseRecord, resourceVersion?: string): V1Lease => ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace, resourceVersion, labels: { "app.kubernetes.io/name": "nls-extender" } },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      // MicroTime serialises with the six fractional digits the API server requires for Lease times.
      acquireTime: record.acquireTime && new V1MicroTime(record.acquireTime.getTime()),
      renewTime: record.renewTime && new V1MicroTime(record.renewTime.getTime()),
      leaseTransitions: record.leaseTransitions,
    },
  });
  return {
    ref,
    async read() {
      try {
        return stored(await bounded("read", api.readNamespacedLease({ namespace, name })));
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    async create(record) {
      return stored(
        await conflictAware("create", bounded("create", api.createNamespacedLease({ namespace, body: body(record) }))),
      );
    },
    async update(record, resourceVersion) {
      return stored(
        await conflictAware(
          "update",
          bounded("update", api.replaceNamespacedLease({ namespace, name, body: body(record, resourceVersion) })),
        ),
      );
    },
  };
}

/** A 409 (AlreadyExists on create, Conflict on update) as LeaseWriteConflict; anything else as is. */
async function conflictAware<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ApiException && err.code === 409) {
      throw new LeaseWriteConflict(`${what}: the Lease was written by another replica first`, { cause: err });
    }
    throw err;
  }
}

const asDate = (v: unknown): Date | undefined => {
  if (v === undefined || v === null) return undefined;
  const d = v instanceof Date ? v : new Date(String(v));
  return Number.isFinite(d.getTime()) ? d : undefined;
};

function stored(lease: V1Lease): StoredLease {
  const spec = lease.spec ?? {};
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? "",
    record: {
      holderIdentity: spec.holderIdentity ?? "",
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: asDate(spec.acquireTime),
      renewTime: asDate(spec.renewTime),
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
  };
}
