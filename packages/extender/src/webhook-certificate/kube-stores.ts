import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Secret,
} from "@kubernetes/client-node";
import { withDeadline } from "../leader/deadline.js";
import type { BundleStore, SecretStore } from "./keeper.js";
import { SECRET_KEYS, type SecretText } from "./stored.js";

const KEYS = Object.values(SECRET_KEYS);

function decoded(secret: V1Secret): { data: SecretText; resourceVersion: string } {
  const data: SecretText = {};
  for (const k of KEYS) {
    const v = secret.data?.[k];
    if (v !== undefined) data[k] = Buffer.from(v, "base64").toString("utf8");
  }
  return { data, resourceVersion: secret.metadata?.resourceVersion ?? "" };
}

/**
 * The certificate Secret by name, through client-node (RBAC: get and update on it alone). A write
 * replaces the Secret as last read — its labels, annotations and type kept, the four keys set, other
 * keys left — carrying the resourceVersion it was decided on, so the API server refuses it (409) when
 * the Secret changed since. It is never created: deploy/ ships it empty (RBAC cannot narrow `create` to
 * one name).
 */
export function kubeSecretStore(kc: KubeConfig, namespace: string, name: string, timeoutMs: number): SecretStore {
  const api = kc.makeApiClient(CoreV1Api);
  const ref = `${namespace}/${name}`;
  let last: V1Secret | undefined;
  return {
    ref,
    async read() {
      last = await withDeadline(`read Secret ${ref}`, api.readNamespacedSecret({ namespace, name }), timeoutMs);
      return decoded(last);
    },
    async write(data, resourceVersion) {
      if (!last) throw new Error(`Secret ${ref} written before it was read`);
      const body: V1Secret = {
        ...last,
        metadata: { ...last.metadata, resourceVersion },
        data: {
          ...last.data,
          ...Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
        },
      };
      last = await withDeadline(
        `write Secret ${ref}`,
        api.replaceNamespacedSecret({ namespace, name, body }),
        timeoutMs,
      );
      return decoded(last);
    },
  };
}

/**
 * The MutatingWebhookConfiguration by name (RBAC: get and patch on it alone). A write is a JSON patch
 * that first tests the resourceVersion read, then sets every webhook's `clientConfig.caBundle`.
 */
export function kubeBundleStore(kc: KubeConfig, name: string, timeoutMs: number): BundleStore {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  let webhooks = 0;
  return {
    ref: name,
    async read() {
      try {
        const config = await withDeadline(
          `read MutatingWebhookConfiguration ${name}`,
          api.readMutatingWebhookConfiguration({ name }),
          timeoutMs,
        );
        webhooks = config.webhooks?.length ?? 0;
        return {
          bundles: (config.webhooks ?? []).map((w) =>
            Buffer.from(w.clientConfig.caBundle ?? "", "base64").toString("utf8"),
          ),
          resourceVersion: config.metadata?.resourceVersion ?? "",
        };
      } catch (err) {
        if ((err as { code?: unknown }).code === 404) return undefined;
        throw err;
      }
    },
    async write(bundlePem, resourceVersion) {
      const caBundle = Buffer.from(bundlePem).toString("base64");
      const body = [
        { op: "test", path: "/metadata/resourceVersion", value: resourceVersion },
        ...Array.from({ length: webhooks }, (_, i) => ({
          op: "add",
          path: `/webhooks/${i}/clientConfig/caBundle`,
          value: caBundle,
        })),
      ];
      try {
        await withDeadline(
          `write MutatingWebhookConfiguration ${name}`,
          api.patchMutatingWebhookConfiguration(
            { name, body },
            setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
          ),
          timeoutMs,
        );
      } catch (err) {
        // A failed `test` operation is the API server's 422 Invalid, with no detail; the patch's `add`
        // operations are valid, so a 422 here means the resourceVersion moved on.
        if ((err as { code?: unknown }).code === 422) {
          throw Object.assign(new Error(`MutatingWebhookConfiguration ${name} changed since read`), { code: 409 });
        }
        throw err;
      }
    },
  };
}
