import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Module → the modules it imports, by path. */
export type ImportGraph = Map<string, string[]>;

// `import … from "./x.js"`, `import type …`, `export … from`, and side-effect `import "./x.js"`.
const RELATIVE_IMPORT = /^\s*(?:import|export)\b[^'"]*?(?:\bfrom\s*)?["'](\.{1,2}\/[^"']+)["']/gm;

/** The relative imports of one TypeScript source (`.js` specifiers name the `.ts` files, as NodeNext wants). */
export function relativeImports(source: string): string[] {
  return [...source.matchAll(RELATIVE_IMPORT)].map((m) => m[1]!.replace(/\.js$/, ".ts"));
}

/** The import graph of every `.ts` file below `dirs`, with paths relative to `root`. */
export function importGraph(root: string, dirs: string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const dir of dirs) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })) {
      if (!entry.endsWith(".ts") || entry.includes("node_modules")) continue;
      const file = join(root, dir, entry);
      const imports = relativeImports(readFileSync(file, "utf8")).map((spec) =>
        relative(root, resolve(dirname(file), spec)),
      );
      graph.set(relative(root, file), imports);
    }
  }
  return graph;
}

/** Every import cycle, as the modules of each strongly connected component (sorted), Tarjan's way. */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}
