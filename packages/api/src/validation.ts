import { Kind, type TSchema } from "@sinclair/typebox";
import { Value, ValueErrorType } from "@sinclair/typebox/value";
import { STRING_ENUM_KIND, STRING_MAP_KIND } from "./schema-helpers.js";

/** The schemas `schemaProblems` checks against (TypeBox's, as every schema here is). */
export type { TSchema } from "@sinclair/typebox";

/**
 * Checks a value a person wrote (a spec file, say) against one of the schemas here, strictly: besides
 * wrong types and missing or out-of-range values, every field the schema does not know is a problem,
 * so a typo such as `listconfig:` is named instead of silently selecting nothing. An object schema that
 * sets `additionalProperties` itself (metadata, string maps) keeps its own rule.
 */

const strictSchemas = new WeakMap<TSchema, TSchema>();

/** `schema` with every object that does not say otherwise closed to unknown fields. */
function strict(schema: TSchema): TSchema {
  let closed = strictSchemas.get(schema);
  if (!closed) {
    closed = { ...schema };
    if (schema[Kind] === "Object" && schema.additionalProperties === undefined) closed.additionalProperties = false;
    if (schema.properties) {
      closed.properties = Object.fromEntries(
        Object.entries(schema.properties as Record<string, TSchema>).map(([k, v]) => [k, strict(v)]),
      );
    }
    if (schema.items) closed.items = strict(schema.items as TSchema);
    strictSchemas.set(schema, closed);
  }
  return closed;
}

/** `/resourceToBeInited/vgs/0/name` → `resourceToBeInited.vgs[0].name`, under `at`. */
function fieldPath(at: string, pointer: string): string {
  let path = at;
  for (const part of pointer.split("/").slice(1)) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    path += /^\d+$/.test(key) ? `[${key}]` : path === "" ? key : `.${key}`;
  }
  return path;
}

/**
 * Every problem with `value` as `schema` describes it, one per field, as `<field path>: <what is
 * wrong>` (`spec.listconfig: unknown field (known: nodeName, listConfig, …)`); `at` prefixes the paths.
 * Empty when the value is valid.
 */
export function schemaProblems(schema: TSchema, value: unknown, at = ""): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const error of Value.Errors(strict(schema), value)) {
    const path = fieldPath(at, error.path);
    // A missing field also fails its type check: report the first problem of each field only.
    if (seen.has(path)) continue;
    seen.add(path);
    problems.push(`${path || "(top level)"}: ${describe(error.type, error.schema, error.message)}`);
  }
  return problems;
}

function describe(type: ValueErrorType, schema: TSchema, message: string): string {
  if (type === ValueErrorType.ObjectAdditionalProperties) {
    return `unknown field (known: ${Object.keys(schema.properties ?? {}).join(", ")})`;
  }
  if (type === ValueErrorType.ObjectRequiredProperty) return "required";
  if (schema[Kind] === STRING_MAP_KIND) return "expected a map of strings";
  if (schema[Kind] === STRING_ENUM_KIND) return `expected one of ${(schema.enum as string[]).join(", ")}`;
  return message.charAt(0).toLowerCase() + message.slice(1);
}
