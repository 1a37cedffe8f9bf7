import test from "ava";
import { existsSync, readdirSync } from "node:fs";
import { repoRoot } from "../deploy/render.js";
import { importCycles, importGraph, relativeImports, type ImportGraph } from "./import-graph.js";

const importCases: Array<[string, string[]]> = [
  ['import { a } from "./a.js";', ["./a.ts"]],
  ['import type { B } from "../b.js";', ["../b.ts"]],
  ['export * from "./c.js";', ["./c.ts"]],
  ['export { d, type E } from "./d.js";', ["./d.ts"]],
  ['import "./side-effect.js";', ["./side-effect.ts"]],
  ['import {\n  a,\n  b,\n} from "./multi.js";', ["./multi.ts"]],
  ['import { x } from "@nls/api";', []],
  ['const s = "./not-an-import.js";', []],
];
for (const [source, want] of importCases) {
  test(`relativeImports(${JSON.stringify(source)})`, (t) => t.deepEqual(relativeImports(source), want));
}

const cycleCases: Array<[string, Record<string, string[]>, string[][]]> = [
  ["a chain", { a: ["b"], b: ["c"], c: [] }, []],
  ["two modules importing each other", { a: ["b"], b: ["a"] }, [["a", "b"]]],
  ["a three-module loop beside a tail", { a: ["b"], b: ["c"], c: ["a", "d"], d: [] }, [["a", "b", "c"]]],
  ["a module importing itself", { a: ["a"] }, [["a"]]],
  [
    "two separate loops",
    { a: ["b"], b: ["a"], c: ["d"], d: ["c"] },
    [
      ["a", "b"],
      ["c", "d"],
    ],
  ],
];
for (const [title, edges, want] of cycleCases) {
  test(`importCycles: ${title}`, (t) => {
    const graph: ImportGraph = new Map(Object.entries(edges));
    t.deepEqual(importCycles(graph), want);
  });
}

test("no package has an import cycle (type-only imports included)", (t) => {
  const packages = readdirSync(`${repoRoot}packages`);
  const dirs = packages.flatMap((p) => [`packages/${p}/src`, `packages/${p}/testing`]);
  const graph = importGraph(
    repoRoot,
    dirs.filter((d) => existsSync(`${repoRoot}${d}`)),
  );
  t.true(graph.size > 50, `read ${graph.size} modules`);
  t.deepEqual(importCycles(graph), []);
});
