/**
 * Just enough of a Dockerfile and .dockerignore reader to check the image statically (no Docker
 * engine here): instructions with continuation lines joined, stages, and ignore-pattern matching.
 */

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name?: string;
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split("\n").forEach((raw, i) => {
    const trimmed = raw.trim();
    if (!pending && (trimmed === "" || trimmed.startsWith("#"))) return;
    if (pending && trimmed.startsWith("#")) return;
    const continued = trimmed.endsWith("\\");
    const piece = continued ? trimmed.slice(0, -1) : trimmed;
    pending = pending ? { text: `${pending.text} ${piece}`, line: pending.line } : { text: piece, line: i + 1 };
    if (continued) return;
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(pending.text) ?? [];
    instructions.push({ keyword: keyword.toUpperCase(), args: args.trim(), line: pending.line });
    pending = undefined;
  });
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const [image = "", as, name] = ins.args.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args[a ?? b] ?? "");
      stages.push({ from, ...(as?.toUpperCase() === "AS" && name ? { name } : {}), instructions: [] });
    } else if (stages.length === 0 && ins.keyword === "ARG") {
      const [name = "", value = ""] = ins.args.split("=");
      args[name] = value;
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { args, stages };
}

/** COPY's flags (`--from=build`), sources and destination. Exec-form (JSON) COPY is not used here. */
export function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith("--"));
  const paths = words.filter((w) => !w.startsWith("--"));
  const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
  return { ...(from ? { from } : {}), sources: paths.slice(0, -1), dest: paths.at(-1) ?? "" };
}

/** Whether .dockerignore keeps `path` (relative to the context) out of the build context. */
export function isIgnored(dockerignore: string, path: string): boolean {
  let ignored = false;
  for (const raw of dockerignore.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    const pattern = (negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, "");
    const source = pattern
      .split("/")
      .map((part) =>
        part === "**"
          ? "(?:.*)"
          : part
              .replace(/[.+^${}()|[\]\\]/g, "\\$&")
              .replace(/\*/g, "[^/]*")
              .replace(/\?/g, "[^/]"),
      )
      .join("/")
      .replace(/\(\?:\.\*\)\//g, "(?:.*/)?");
    // A pattern that names a directory excludes everything below it.
    if (new RegExp(`^${source}(?:/.*)?$`).test(path)) ignored = !negated;
  }
  return ignored;
}
