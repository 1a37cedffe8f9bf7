/**
 * Kubernetes resource quantities (`10Gi`, `500M`, `1.5Ti`, `1e9`, `100m`) to and from bytes, with exact
 * integer arithmetic: the mantissa is kept as a BigInt with a decimal scale, so `8Ei - 1` does not round.
 * Fractions of a byte round up, as Kubernetes' `Quantity.Value()` does.
 */

export class QuantityError extends Error {
  override readonly name = "QuantityError";
}

const BINARY_SUFFIXES: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};

const DECIMAL_EXPONENTS: Record<string, number> = { m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const QUANTITY_RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|m|k|M|G|T|P|E|)$/;

/** Large exponents are legal in Kubernetes but no disk is 10^30 bytes; refuse before BigInt blows up. */
const MAX_DECIMAL_EXPONENT = 30;

/** Parses a quantity into a whole number of bytes (rounded up). Throws `QuantityError` on bad input. */
export function parseQuantity(input: string | number): bigint {
  const text = typeof input === "number" ? numberToQuantityText(input) : input;
  if (typeof text !== "string" || text.length === 0) {
    throw new QuantityError("quantity is empty");
  }
  const m = QUANTITY_RE.exec(text);
  if (!m) {
    throw new QuantityError(
      `invalid quantity ${JSON.stringify(text)}: expected a number with an optional suffix ` +
        `(Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E, m or an exponent like e9)`,
    );
  }
  const [, sign, number, suffix] = m as unknown as [string, string, string, string];
  if (sign === "-" && /[1-9]/.test(number)) {
    throw new QuantityError(`invalid quantity ${JSON.stringify(text)}: must not be negative`);
  }
  const [whole, fraction = ""] = number.split(".") as [string, string?];
  const mantissa = BigInt((whole || "0") + fraction);
  let scale = fraction.length; // value = mantissa / 10^scale * multiplier

  let numerator = mantissa;
  const binary = BINARY_SUFFIXES[suffix];
  if (binary !== undefined) {
    numerator *= binary;
  } else {
    const exponent = suffix in DECIMAL_EXPONENTS ? DECIMAL_EXPONENTS[suffix]! : Number(suffix.slice(1));
    if (exponent > MAX_DECIMAL_EXPONENT) {
      throw new QuantityError(`invalid quantity ${JSON.stringify(text)}: too large`);
    }
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else scale -= exponent;
  }
  const denominator = 10n ** BigInt(scale);
  return (numerator + denominator - 1n) / denominator;
}

/** `parseQuantity` as a JS number; throws when the value does not fit exactly (above 2^53 - 1 bytes, 8 PiB). */
export function parseBytes(input: string | number): number {
  const bytes = parseQuantity(input);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new QuantityError(`quantity ${JSON.stringify(input)} is too large (over ${Number.MAX_SAFE_INTEGER} bytes)`);
  }
  return Number(bytes);
}

/** Result-returning variant for callers that report errors as data. */
export function tryParseBytes(input: unknown): { ok: true; bytes: number } | { ok: false; error: string } {
  if (typeof input !== "string" && typeof input !== "number") {
    return { ok: false, error: `quantity must be a string or number, got ${input === null ? "null" : typeof input}` };
  }
  try {
    return { ok: true, bytes: parseBytes(input) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function numberToQuantityText(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityError(`invalid quantity ${n}: not a finite number`);
  if (n < 0) throw new QuantityError(`invalid quantity ${n}: must not be negative`);
  // Up to 2^53 the integer text is exact; fractions keep JS's shortest round-trip form.
  return Number.isInteger(n) ? BigInt(n).toString() : String(n);
}

const BINARY_ORDER: Array<[string, bigint]> = Object.entries(BINARY_SUFFIXES).reverse();
const DECIMAL_ORDER: Array<[string, bigint]> = [
  ["E", 10n ** 18n],
  ["P", 10n ** 15n],
  ["T", 10n ** 12n],
  ["G", 10n ** 9n],
  ["M", 10n ** 6n],
  ["k", 10n ** 3n],
];

/**
 * Exact canonical text for a byte count: the largest binary suffix that divides it, else the largest
 * decimal one, else the plain integer. `parseQuantity(formatQuantity(b)) === b` for every b ≥ 0.
 */
export function formatQuantity(bytes: number | bigint): string {
  const b = BigInt(bytes);
  if (b < 0n) throw new QuantityError(`cannot format negative byte count ${b}`);
  if (b === 0n) return "0";
  for (const [suffix, unit] of BINARY_ORDER) if (b % unit === 0n) return `${b / unit}${suffix}`;
  for (const [suffix, unit] of DECIMAL_ORDER) if (b % unit === 0n) return `${b / unit}${suffix}`;
  return b.toString();
}

/** Approximate, human-readable binary size for messages (`12.5Gi`, `300Mi`, `512`): not for round-trips. */
export function formatBytesHuman(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const sign = bytes < 0 ? "-" : "";
  let value = Math.abs(bytes);
  const units = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const text = i === 0 ? String(value) : String(Math.floor(value * 100) / 100);
  return `${sign}${text}${units[i]}`;
}
