import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { PendingPods } from "../routes/reserve-admission.js";

/**
 * The unscheduled pods of one namespace, listed when the reserve route asks (once per call; the API
 * server answers from its watch cache). No pod is kept: the extender watches no pods.
 */
export function kubePendingPods(kc: KubeConfig): PendingPods {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async inNamespace(namespace) {
      return (await core.listNamespacedPod({ namespace, fieldSelector: "spec.nodeName=" })).items;
    },
  };
}
