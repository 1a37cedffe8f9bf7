import type { KubeApi, Watch } from "../e2e/kube-api.js";

/**
 * The moment a watch of `namespace`'s pods first shows each pod bound, sorted, once `expected` pods are.
 *
 * Every watch, the first and each reopened one, asks for `resourceVersion=0`: the API server answers at
 * once from its watch cache with every pod as the cache holds it, then each later change. Without a
 * resourceVersion, the e2e kube-apiserver waits for the pods' watch cache to reach etcd's newest
 * revision, which it does only on a pod change or an etcd progress notification, and the e2e etcd sends
 * none (kube-apiserver logs "RequestWatchProgress feature is not supported"). Once the pods were all
 * bound and only other objects changed (events, leases), every such watch waited 3 s and failed with
 * "Too large resource version", however often it was reopened: the bindings it had missed were never
 * seen and the scenario stalled for its 5 minutes.
 *
 * The watch is reopened after an ERROR event and whenever its response ends or is cut off (the API
 * server closes a watcher that reads too slowly, as a bench process starved of CPU does); a pod already
 * bound when it reopens counts from then. `onBound(n)` is called as the n-th pod is first seen bound
 * (the bench samples CPU times at the first and the last).
 */
export function watchBindings(
  api: KubeApi,
  namespace: string,
  expected: number,
  onBound: (count: number) => void = () => undefined,
): { times: Promise<number[]>; count(): number; stop(): void } {
  const bound = new Map<string, number>();
  let done = false;
  let current: Watch | undefined;
  const times = new Promise<number[]>((resolve) => {
    const open = () => {
      if (done) return;
      let replaced = false;
      const again = () => {
        if (done || replaced) return;
        replaced = true;
        current?.close();
        setTimeout(open, 500);
      };
      current = api.watch<{ metadata: { name: string }; spec?: { nodeName?: string } }>(
        `/api/v1/namespaces/${namespace}/pods?resourceVersion=0`,
        (event) => {
          if (done || replaced) return;
          if (event.type === "ERROR") return again();
          const pod = event.object;
          if (pod.spec?.nodeName && !bound.has(pod.metadata.name)) {
            bound.set(pod.metadata.name, performance.now());
            onBound(bound.size);
          }
          if (bound.size === expected) {
            done = true;
            current?.close();
            resolve([...bound.values()].sort((a, b) => a - b));
          }
        },
        // Ended, cut off or refused (a non-200 answer is a Status, not events): open it again.
        () => again(),
      );
    };
    open();
  });
  const stop = () => {
    done = true;
    current?.close();
  };
  return { times, count: () => bound.size, stop };
}
