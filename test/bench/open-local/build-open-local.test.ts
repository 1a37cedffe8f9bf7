import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { run } from "../../e2e/cluster.js";

const script = fileURLToPath(new URL("build-open-local.sh", import.meta.url));

/** A directory with the files given (path → content). */
function checkout(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "open-local-src-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const cases: Array<[string, string[], RegExp]> = [
  ["no checkout named", [], /give a checkout of github\.com\/alibaba\/open-local/],
  ["another module", [checkout({ "go.mod": "module example.com/other\n" })], /is not a checkout of/],
  ["no go.mod", [checkout({ "README.md": "x" })], /is not a checkout of/],
  [
    "open-local without vendor/",
    [checkout({ "go.mod": "module github.com/alibaba/open-local\n\ngo 1.19\n" })],
    /has no vendor\/ to build from/,
  ],
];
for (const [name, args, message] of cases)
  test(`build-open-local.sh refuses ${name}, building nothing`, async (t) => {
    const cache = mkdtempSync(join(tmpdir(), "open-local-cache-"));
    const r = await run("bash", [script, ...args], { NLS_OPEN_LOCAL_SRC: "", NLS_OPEN_LOCAL_CACHE: cache });
    t.is(r.exitCode, 2);
    t.regex(r.stderr, message);
    t.is(r.stdout, "");
  });
