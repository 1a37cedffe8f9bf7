import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildInfo, buildInfoLabels, packageVersion, versionText } from "./version.js";

const dir = mkdtempSync(join(tmpdir(), "nls-version-"));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return pathToFileURL(join(dir, name));
};

const cases: Array<[string, URL, string]> = [
  ["this package's version", new URL("../package.json", import.meta.url), "0.1.0"],
  ["a missing file", pathToFileURL(join(dir, "missing.json")), "unknown"],
  ["not JSON", file("bad.json", "{"), "unknown"],
  ["no version", file("none.json", "{}"), "unknown"],
];
for (const [title, url, want] of cases) {
  test(`packageVersion: ${title}`, (t) => t.is(packageVersion(url), want));
}

const pkg = new URL("../package.json", import.meta.url);
const stampCases: Array<[string, URL, { version: string; commit: string }]> = [
  ["a stamp", file("stamp.json", '{"version":"1.2.3","commit":"abc123"}'), { version: "1.2.3", commit: "abc123" }],
  ["no stamp (run from src/)", pathToFileURL(join(dir, "none-here.json")), { version: "0.1.0", commit: "unknown" }],
  ["a stamp without a commit", file("half.json", '{"version":"1.2.3"}'), { version: "0.1.0", commit: "unknown" }],
  ["a broken stamp", file("broken.json", "{"), { version: "0.1.0", commit: "unknown" }],
];
for (const [title, url, want] of stampCases) {
  test(`buildInfo: ${title}`, (t) => t.deepEqual(buildInfo(url, pkg), want));
}

test("versionText and the build_info labels carry the version and the commit", (t) => {
  const b = { version: "1.2.3", commit: "abc123" };
  t.is(versionText(b), "1.2.3 (commit abc123)");
  t.deepEqual(buildInfoLabels(b), { version: "1.2.3", revision: "abc123", nodejs: process.version });
});
