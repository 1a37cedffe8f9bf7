import test from "ava";
import { mkdtempSync, readFileSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenFile } from "./token-file.js";

/** A token file whose mtime is pinned, so only the size, inode or the clock can tell a change. */
function pinned(token: string) {
  const path = join(mkdtempSync(join(tmpdir(), "nls-token-file-")), "token");
  const fixed = new Date("2026-01-01T00:00:00Z");
  const write = (text: string) => {
    writeFileSync(path, text);
    utimesSync(path, fixed, fixed);
  };
  write(token);
  return { path, write };
}

const cases: Array<{ title: string; change: (f: ReturnType<typeof pinned>) => void; afterMs: number; want: string }> = [
  {
    title: "kept while the file is unchanged and younger than a minute",
    change: (f) => f.write("bbbb\n"),
    afterMs: 59_000,
    want: "aaaa",
  },
  {
    title: "read again after a minute even if nothing shows a change",
    change: (f) => f.write("bbbb\n"),
    afterMs: 61_000,
    want: "bbbb",
  },
  { title: "read again at once when its size changed", change: (f) => f.write("bbbbbb"), afterMs: 0, want: "bbbbbb" },
  {
    title: "read again at once when the file was swapped (the kubelet's atomic update)",
    change: (f) => {
      writeFileSync(`${f.path}.new`, "cccc");
      renameSync(`${f.path}.new`, f.path);
    },
    afterMs: 0,
    want: "cccc",
  },
];
for (const c of cases) {
  test(`TokenFile: ${c.title}`, async (t) => {
    const f = pinned("aaaa\n");
    let now = 1_000_000;
    const token = new TokenFile(f.path, () => now);
    t.is(await token.current(), "aaaa", "trailing whitespace is not part of the token");
    c.change(f);
    now += c.afterMs;
    t.is(await token.current(), c.want);
    t.is(await token.reread(), readFileSync(f.path, "utf8").trim(), "reread() always reads");
  });
}
