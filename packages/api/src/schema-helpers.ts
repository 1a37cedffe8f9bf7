import { Kind, Type, TypeRegistry, type TUnsafe } from "@sinclair/typebox";

/**
 * Builders for schemas that must also be valid Kubernetes *structural* schemas: TypeBox's own
 * `Union`/`Literal`/`Record` emit `anyOf`/`const`/`patternProperties`, which apiextensions/v1 rejects.
 * The two hand-made kinds are registered with TypeBox so its validator (`validation.ts`) checks them too.
 */

export const STRING_ENUM_KIND = "NlsStringEnum";
export const STRING_MAP_KIND = "NlsStringMap";

TypeRegistry.Set<{ enum: string[] }>(
  STRING_ENUM_KIND,
  (schema, value) => typeof value === "string" && schema.enum.includes(value),
);
TypeRegistry.Set(
  STRING_MAP_KIND,
  (_schema, value) =>
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string"),
);

export const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> =>
  Type.Unsafe<T[number]>({ [Kind]: STRING_ENUM_KIND, type: "string", enum: [...values], ...options });

/** A byte count: integer, int64 in the CRD. */
export const Bytes = (description?: string) =>
  Type.Integer({ format: "int64", minimum: 0, ...(description ? { description } : {}) });

export const StringMap = (description?: string): TUnsafe<Record<string, string>> =>
  Type.Unsafe<Record<string, string>>({
    [Kind]: STRING_MAP_KIND,
    type: "object",
    additionalProperties: { type: "string" },
    ...(description ? { description } : {}),
  });

export const DateTime = (description?: string) =>
  Type.String({ format: "date-time", ...(description ? { description } : {}) });

export const StringList = (maxItems?: number, description?: string) =>
  Type.Array(Type.String(), {
    ...(maxItems !== undefined ? { maxItems } : {}),
    ...(description ? { description } : {}),
  });
