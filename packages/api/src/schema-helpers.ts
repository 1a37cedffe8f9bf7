import { Type, type TUnsafe } from "@sinclair/typebox";

/**
 * Builders for schemas that must also be valid Kubernetes *structural* schemas: TypeBox's own
 * `Union`/`Literal`/`Record` emit `anyOf`/`const`/`patternProperties`, which apiextensions/v1 rejects.
 */
export const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> => Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });

/** A byte count: integer, int64 in the CRD. */
export const Bytes = (description?: string) =>
  Type.Integer({ format: "int64", minimum: 0, ...(description ? { description } : {}) });

export const StringMap = (description?: string): TUnsafe<Record<string, string>> =>
  Type.Unsafe<Record<string, string>>({
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
