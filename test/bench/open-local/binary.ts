/**
 * Where the benchmarks get alibaba/open-local's binary, to measure its scheduler extender beside nls's:
 * NLS_OPEN_LOCAL_BIN (a built binary) or NLS_OPEN_LOCAL_SRC (a checkout of github.com/alibaba/open-local,
 * built by build-open-local.sh from its own vendor/: its module is not always served by the Go module
 * proxy). Neither: the open-local scenarios are skipped, and the figures say why.
 */
import { accessSync, constants } from "node:fs";
import { fileURLToPath } from "node:url";
import { run } from "../../e2e/cluster.js";

export type OpenLocalSource = { bin: string } | { src: string } | { skipped: string };

export const OPEN_LOCAL_SKIPPED =
  "no open-local: set NLS_OPEN_LOCAL_SRC to a checkout of github.com/alibaba/open-local (built from its vendor/) or NLS_OPEN_LOCAL_BIN to its binary";

/** What the environment names; a binary given wins over a checkout. */
export function openLocalSource(env: NodeJS.ProcessEnv): OpenLocalSource {
  if (env.NLS_OPEN_LOCAL_BIN) return { bin: env.NLS_OPEN_LOCAL_BIN };
  if (env.NLS_OPEN_LOCAL_SRC) return { src: env.NLS_OPEN_LOCAL_SRC };
  return { skipped: OPEN_LOCAL_SKIPPED };
}

export interface OpenLocalBinary {
  bin: string;
  /** What `open-local version` prints (`v0.8.0-c0fbee4bf7dc` when built by build-open-local.sh). */
  version: string;
}

/** The binary to run (building it from a checkout if need be), or why there is none. */
export async function openLocalBinary(env = process.env): Promise<OpenLocalBinary | { skipped: string }> {
  const source = openLocalSource(env);
  if ("skipped" in source) return source;
  let bin: string;
  if ("src" in source) {
    const script = fileURLToPath(new URL("build-open-local.sh", import.meta.url));
    const built = await run("bash", [script, source.src]);
    if (built.exitCode !== 0) throw new Error(`building open-local from ${source.src} failed: ${built.stderr.trim()}`);
    bin = built.stdout.trim();
  } else {
    bin = source.bin;
    accessSync(bin, constants.X_OK);
  }
  const version = await run(bin, ["version"]);
  if (version.exitCode !== 0) throw new Error(`${bin} version: exit ${version.exitCode}: ${version.stderr.trim()}`);
  return { bin, version: version.stdout.trim().replace(/^open-local:\s*/, "") };
}
