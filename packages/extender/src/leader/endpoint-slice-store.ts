import {
  DiscoveryV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1EndpointSlice,
} from "@kubernetes/client-node";
import { withDeadline } from "./deadline.js";
import type { SliceEndpoint, SliceView } from "./endpoint-slice.js";
import type { SliceStore, StoredSlice } from "./leader-endpoints.js";

/**
 * The leader's EndpointSlices in `namespace` through client-node; each call gives up after `timeoutMs`.
 * A write is a merge patch of `endpoints` carrying the resourceVersion it was decided on, so the API
 * server refuses it (409) when the slice changed since: a write never undoes one it did not see.
 */
export function kubeSliceStore(kc: KubeConfig, namespace: string, timeoutMs: number): SliceStore {
  const api = kc.makeApiClient(DiscoveryV1Api);
  return {
    ref: (name) => `${namespace}/${name}`,
    async read(name) {
      const slice = await withDeadline(
        `read EndpointSlice ${namespace}/${name}`,
        api.readNamespacedEndpointSlice({ namespace, name }),
        timeoutMs,
      );
      return stored(slice);
    },
    async writeEndpoints(name, endpoints, resourceVersion) {
      const body = { metadata: { resourceVersion }, endpoints };
      const slice = await withDeadline(
        `write EndpointSlice ${namespace}/${name}`,
        api.patchNamespacedEndpointSlice(
          { namespace, name, body },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        ),
        timeoutMs,
      );
      return stored(slice);
    },
  };
}

function stored(slice: V1EndpointSlice): StoredSlice {
  const view: SliceView = {
    addressType: slice.addressType,
    endpoints: slice.endpoints?.map((e): SliceEndpoint => ({
      addresses: e.addresses,
      conditions: e.conditions,
      nodeName: e.nodeName,
      targetRef: e.targetRef && { kind: e.targetRef.kind, name: e.targetRef.name, namespace: e.targetRef.namespace },
    })),
  };
  return { view, resourceVersion: slice.metadata?.resourceVersion ?? "" };
}
