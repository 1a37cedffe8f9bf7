import { Type, type Static } from "@sinclair/typebox";
import { StringList, StringMap } from "./schema-helpers.js";

export const LabelSelectorRequirementSchema = Type.Object({
  key: Type.String(),
  operator: Type.String({ description: "In, NotIn, Exists or DoesNotExist" }),
  values: Type.Optional(StringList()),
});
export type LabelSelectorRequirement = Static<typeof LabelSelectorRequirementSchema>;

/** Kubernetes `metav1.LabelSelector`, as a NodeLocalStorageInitConfig's `nodesConfig[].selector` holds it. */
export const LabelSelectorSchema = Type.Object({
  matchLabels: Type.Optional(StringMap()),
  matchExpressions: Type.Optional(Type.Array(LabelSelectorRequirementSchema)),
});
export type LabelSelector = Static<typeof LabelSelectorSchema>;

/**
 * Kubernetes LabelSelector semantics (metav1.LabelSelectorAsSelector): all `matchLabels` and all
 * `matchExpressions` must hold; an empty selector matches everything; a missing one matches nothing.
 * An unknown operator matches nothing rather than everything.
 */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        if (!has || !values.includes(labels[req.key]!)) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[req.key]!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
