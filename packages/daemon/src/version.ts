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
