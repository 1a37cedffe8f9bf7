import { evaluate } from "@marcbachmann/cel-js";

/**
 * A small offline model of how the API server applies one ValidatingAdmissionPolicy
 * (admissionregistration.k8s.io/v1) and its binding to one request: resource rules, the namespace
 * selector, the binding's parameter (found by label selector, with parameterNotFoundAction),
 * matchConditions, variables and validations in CEL, with failurePolicy Fail (an expression that
 * errors denies). It exists so the policies in deploy/ can be tested without an API server; it models
 * only the fields those policies use.
 */

export interface AdmissionRequest {
  operation: "CREATE" | "UPDATE" | "DELETE";
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name: string;
  namespace?: string;
  userInfo: { username: string; groups?: string[]; extra: Record<string, string[]> };
  /** The labels of the request's namespace (namespaced resources), for the namespace selector. */
  namespaceLabels?: Record<string, string>;
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

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }>;
}

export interface PolicySpec {
  failurePolicy?: "Fail" | "Ignore";
  paramKind?: { apiVersion: string; kind: string };
  matchConstraints: { resourceRules: ResourceRule[]; namespaceSelector?: LabelSelector };
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

export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const ok =
      e.operator === "In"
        ? has && (e.values ?? []).includes(labels[e.key]!)
        : e.operator === "NotIn"
          ? !has || !(e.values ?? []).includes(labels[e.key]!)
          : e.operator === "Exists"
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

function cel(expression: string, context: Record<string, unknown>): Outcome {
  try {
    return { ok: true, value: evaluate(expression, context) };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split("\n")[0]! };
  }
}

/** Whether the policy's constraints select the request at all (before parameters and conditions). */
function constrained(policy: PolicySpec, r: AdmissionRequest): boolean {
  if (!matchesRules(policy.matchConstraints.resourceRules, r)) return false;
  const selector = policy.matchConstraints.namespaceSelector;
  // A namespace selector never skips a cluster-scoped object.
  if (!selector || r.namespace === undefined) return true;
  if (!r.namespaceLabels) throw new Error(`a namespaced request needs the labels of namespace ${r.namespace}`);
  return selects(selector, r.namespaceLabels);
}

/** One policy for one request with one parameter object (`null`: the policy has no paramKind). */
export function admit(policy: PolicySpec, input: AdmissionInput, params: unknown = null): Verdict {
  if (policy.failurePolicy !== "Fail") throw new Error("this model only implements failurePolicy: Fail");
  if (!constrained(policy, input.request)) return { matched: false };
  // Variables are evaluated lazily, as the API server does; one that errors fails whoever reads it.
  const variables: Record<string, unknown> = {};
  const context = { ...input, params, variables };
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

export interface BindingSpec {
  policyName: string;
  validationActions: string[];
  paramRef?: {
    namespace?: string;
    selector?: LabelSelector;
    name?: string;
    parameterNotFoundAction: "Allow" | "Deny";
  };
}

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

/**
 * A policy through its binding, as installed: the parameters are the `paramKind` objects among
 * `objects` that the binding's paramRef selects. None found: Allow skips the policy, Deny denies what
 * it matches. Several: each is evaluated and all must allow.
 */
export function admitBound(policy: PolicySpec, binding: BindingSpec, objects: Obj[], input: AdmissionInput): Verdict {
  const ref = binding.paramRef;
  if (!policy.paramKind || !ref) return admit(policy, input);
  const params = objects.filter(
    (o) =>
      o.kind === policy.paramKind!.kind &&
      (ref.namespace === undefined || o.metadata.namespace === ref.namespace) &&
      (ref.name === undefined || o.metadata.name === ref.name) &&
      (ref.selector === undefined || selects(ref.selector, o.metadata.labels ?? {})),
  );
  if (params.length === 0) {
    if (!constrained(policy, input.request) || ref.parameterNotFoundAction === "Allow") return { matched: false };
    return { matched: true, allowed: false, messages: ["no params found for policy binding with Deny"] };
  }
  const verdicts = params.map((p) => admit(policy, input, p)).filter((v) => v.matched);
  if (verdicts.length === 0) return { matched: false };
  const messages = verdicts.flatMap((v) => (v.matched ? v.messages : []));
  return { matched: true, allowed: messages.length === 0, messages };
}
