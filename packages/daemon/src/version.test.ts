import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { packageVersion } from "./version.js";

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
