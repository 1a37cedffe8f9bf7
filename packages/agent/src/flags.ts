import { parseDuration } from "@nls/api";
import { normaliseDeviceGlobs } from "./discovery/host.js";

/**
 * Parsers for the daemon's flag values (also used for their environment variables). Each throws an
 * `Error` whose message says what was expected; the CLI turns it into a usage error.
 */

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
