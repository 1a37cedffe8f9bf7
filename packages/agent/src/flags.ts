import { normaliseDeviceGlobs } from "./discovery/host.js";

/**
 * Parsers for the daemon's flag values (also used for their environment variables). Each throws an
 * `Error` whose message says what was expected; the CLI turns it into a usage error.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h`, `1m30s`, or a bare number of seconds → milliseconds (> 0). */
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

/** Comma-separated device globs; a glob without `/` means `/dev/<glob>`. */
export function parseDeviceGlobs(value: string): string[] {
  const globs = normaliseDeviceGlobs(value.split(","));
  if (globs.length === 0) throw new Error(`invalid device globs "${value}": expected e.g. /dev/sd*,/dev/nvme*n*`);
  return globs;
}

/** A command prefix such as `nsenter --mount=/proc/1/ns/mnt --`, split on whitespace; empty = none. */
export function parseCommandPrefix(value: string): string[] {
  return value.split(/\s+/).filter((w) => w.length > 0);
}

/** A Kubernetes object name (RFC 1123 subdomain), as Node, NLSC and namespace names are. */
export function parseObjectName(what: string): (value: string) => string {
  return (value) => {
    const v = value.trim();
    if (v.length === 0 || v.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) {
      throw new Error(`invalid ${what} "${value}": expected a lower-case DNS name (a-z, 0-9, '-', '.')`);
    }
    return v;
  };
}

/** The scan interval: a duration of at least one second (each scan runs lsblk, lvm and wipefs). */
export function parseInterval(value: string): number {
  const ms = parseDuration(value);
  if (ms < 1_000) throw new Error(`invalid interval "${value}": must be at least 1s`);
  return ms;
}
