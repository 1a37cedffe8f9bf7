/**
 * Durations as both daemons' flags take them (`--interval`, `--reservation-ttl`): `500ms`, `30s`, `2m`,
 * `1h`, compounds like `1m30s`, or a bare number of seconds. Returns milliseconds (> 0); throws an
 * Error saying what was expected.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export function parseDuration(value: string): number {
  const v = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1_000;
  else {
    const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== v) {
      throw new Error(`invalid duration "${value}": expected e.g. 30s, 2m, 1m30s, 500ms`);
    }
    ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  }
  if (!(ms > 0) || !Number.isFinite(ms)) throw new Error(`invalid duration "${value}": must be greater than zero`);
  return Math.round(ms);
}
