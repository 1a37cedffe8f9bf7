import { find, kustomize } from "./render.js";
import type { PolicySpec } from "./admission.js";

/** deploy/'s policy holding the extender to its webhook configuration's caBundle. */
export const CA_BUNDLE_POLICY = "nls-extender-webhook-ca-bundle-only";

/** The expression of its first validation: each webhook compared with its old self, field by field. */
export async function caBundleComparison(): Promise<string> {
  const { spec } = find(await kustomize(), "ValidatingAdmissionPolicy", CA_BUNDLE_POLICY) as unknown as {
    spec: PolicySpec;
  };
  return spec.validations[0]!.expression;
}

/**
 * Whether `comparison` keeps a webhook's `field` (`failurePolicy`, or `clientConfig.url` for one of its
 * client config) as it was: a field it does not name may be changed by the extender.
 */
export const keepsWebhookField = (comparison: string, field: string): boolean =>
  comparison.includes(`w.${field} == o.${field}`);
