import { Gi, lease, nls, storageClass } from "@nls/testkit";
import { ClusterStore } from "../src/cache/store.js";

/** A store with the usual classes and `nodes` each holding VGs pool-0 (100Gi) and pool-1 (50Gi), leases fresh at `now`. */
export function clusterWith(nodes: string[], now: number, options: ConstructorParameters<typeof ClusterStore>[0] = {}) {
  const store = new ClusterStore(options);
  store.applyStorageClass(storageClass("lvm", { volumeType: "LVM" }));
  store.applyStorageClass(storageClass("lvm-pool0", { volumeType: "LVM", vgName: "pool-0" }));
  store.applyStorageClass(storageClass("ssd", { volumeType: "Device", mediaType: "ssd" }));
  for (const n of nodes) {
    store.applyNls(
      nls(n, {
        vgs: [
          { name: "pool-0", allocatable: 100 * Gi },
          { name: "pool-1", allocatable: 50 * Gi },
        ],
      }),
    );
    store.applyLease(lease(n, new Date(now)));
  }
  return store;
}
