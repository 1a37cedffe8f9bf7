import { readFileSync } from "node:fs";

/**
 * The `version` of the package.json at `packageJson` (a daemon passes `new URL("../package.json",
 * import.meta.url)`, which is right from `src/` and `dist/` alike); `unknown` when it cannot be read.
 */
export function packageVersion(packageJson: URL): string {
  try {
    const { version } = JSON.parse(readFileSync(packageJson, "utf8")) as { version?: unknown };
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}

/** What a daemon binary is: the version of nls and the commit it was built from. */
export interface BuildInfo {
  version: string;
  commit: string;
}

/**
 * The `build-info.json` that `pnpm build` writes into a daemon's dist/ (scripts/build-info.mjs: the
 * version of the root package.json and the commit; the image build passes the commit in). A daemon
 * passes `new URL("./build-info.json", import.meta.url)` and its package.json; run from `src/` there is
 * no stamp, and it is the package version with commit `unknown`.
 */
export function buildInfo(stamp: URL, packageJson: URL): BuildInfo {
  try {
    const { version, commit } = JSON.parse(readFileSync(stamp, "utf8")) as { version?: unknown; commit?: unknown };
    if (typeof version === "string" && typeof commit === "string" && version && commit) return { version, commit };
  } catch {
    // No stamp (or a broken one): what the package says.
  }
  return { version: packageVersion(packageJson), commit: "unknown" };
}

/** What `--version` prints: `0.1.0 (commit 1f0e…)`. */
export const versionText = (b: BuildInfo): string => `${b.version} (commit ${b.commit})`;

/** The labels of a daemon's `nls_<daemon>_build_info` gauge (always 1), as Prometheus exporters have them. */
export const buildInfoLabels = (b: BuildInfo): { version: string; revision: string; nodejs: string } => ({
  version: b.version,
  revision: b.commit,
  nodejs: process.version,
});
