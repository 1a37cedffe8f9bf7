#!/usr/bin/env node
// Stamps each daemon's dist/ with build-info.json: the version of nls (the root package.json's `version`,
// the one place it is written) and the commit the build comes from. The daemons print both in
// `--version`, serve them on /version and export them as `nls_<daemon>_build_info`.
//
// The commit: $NLS_COMMIT (the image build passes it; its context has no .git), else `git rev-parse
// HEAD` of this checkout, else "unknown". $NLS_VERSION, when set (the image build passes the version
// it tags), must equal the package.json version: an image tagged with one version never carries another.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
if (process.env.NLS_VERSION && process.env.NLS_VERSION !== version) {
  console.error(`build-info: NLS_VERSION=${process.env.NLS_VERSION} but package.json says ${version}`);
  process.exit(1);
}
let commit = process.env.NLS_COMMIT || "";
if (!commit) {
  try {
    commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    commit = "unknown";
  }
}
for (const daemon of ["agent", "extender"]) {
  const dist = new URL(`packages/${daemon}/dist/`, root);
  if (!existsSync(dist)) continue;
  writeFileSync(new URL("build-info.json", dist), `${JSON.stringify({ version, commit })}\n`);
}
