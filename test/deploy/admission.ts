import { evaluate } from "@marcbachmann/cel-js";

/**
 * A small offline model of how the API server applies one ValidatingAdmissionPolicy
 * (admissionregistration.k8s.io/v1) to one request: resource rules, matchConditions, variables and
 * validations in CEL, with failurePolicy Fail (an expression that errors denies). It exists so the
 * policy in deploy/ can be tested without an API server; it models only the fields that policy uses.
 */

export interface AdmissionRequest {
  operation: "CREATE" | "UPDATE" | "DELETE";
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name: string;
  namespace?: string;
  userInfo: { username: string; groups?: string[]; extra: Record<string, string[]> };
}

export interface AdmissionInput {
  request: AdmissionRequest;
  object: unknown;
  oldObject: unknown;
}

interface ResourceRule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
}

export interface PolicySpec {
  failurePolicy?: "Fail" | "Ignore";
  matchConstraints: { resourceRules: ResourceRule[] };
  matchConditions?: Array<{ name: string; expression: string }>;
  variables?: Array<{ name: string; expression: string }>;
  validations: Array<{ expression: string; message?: string; messageExpression?: string }>;
}

export type Verdict = { matched: false } | { matched: true; allowed: boolean; messages: string[] };

const anyOr = (list: string[], value: string) => list.includes("*") || list.includes(value);

function matchesRules(rules: ResourceRule[], r: AdmissionRequest): boolean {
  const resource = r.subResource ? `${r.resource.resource}/${r.subResource}` : r.resource.resource;
  return rules.some(
    (rule) =>
      anyOr(rule.apiGroups, r.resource.group) &&
      anyOr(rule.apiVersions, r.resource.version) &&
      anyOr(rule.operations, r.operation) &&
      anyOr(rule.resources, resource),
  );
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

function cel(expression: string, context: Record<string, unknown>): Outcome {
  try {
    return { ok: true, value: evaluate(expression, context) };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split("\n")[0]! };
  }
}

export function admit(policy: PolicySpec, input: AdmissionInput): Verdict {
  if (policy.failurePolicy !== "Fail") throw new Error("this model only implements failurePolicy: Fail");
  if (!matchesRules(policy.matchConstraints.resourceRules, input.request)) return { matched: false };
  // Variables are evaluated lazily, as the API server does; one that errors fails whoever reads it.
  const variables: Record<string, unknown> = {};
  const context = { ...input, variables };
  for (const v of policy.variables ?? []) {
    let memo: Outcome | undefined;
    Object.defineProperty(variables, v.name, {
      enumerable: true,
      get() {
        memo ??= cel(v.expression, context);
        if (!memo.ok) throw new Error(`variable ${v.name}: ${memo.error}`);
        return memo.value;
      },
    });
  }
  for (const condition of policy.matchConditions ?? []) {
    const result = cel(condition.expression, context);
    if (!result.ok)
      return { matched: true, allowed: false, messages: [`matchCondition ${condition.name}: ${result.error}`] };
    if (result.value !== true) return { matched: false };
  }
  const messages: string[] = [];
  for (const validation of policy.validations) {
    const result = cel(validation.expression, context);
    if (result.ok && result.value === true) continue;
    const fromExpression = validation.messageExpression ? cel(validation.messageExpression, context) : undefined;
    messages.push(
      fromExpression?.ok && typeof fromExpression.value === "string"
        ? fromExpression.value
        : (validation.message ?? `failed expression: ${validation.expression}`).trim(),
    );
  }
  return { matched: true, allowed: messages.length === 0, messages };
}
