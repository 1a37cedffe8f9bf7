import type { Command, Option } from "commander";
import type { NamedKind } from "../cluster/reader.js";

/**
 * Shell completion in the protocol kubectl uses for plugins (kubectl ≥ 1.26 runs the executable
 * `kubectl_complete-nls` with the words after `kubectl nls`, the last one being the word to complete):
 * one candidate per line (`value<TAB>description`), then `:<directive>`. Pure over the command tree;
 * names that only the cluster knows come from `lookup`.
 */

/** cobra's ShellCompDirective values that this plugin uses. */
export const DIRECTIVE = { default: 0, noFileComp: 4 } as const;

/** What a flag's or argument's value can be completed from. */
export type NameKind = NamedKind | "context";

export interface Completion {
  candidates: Array<{ value: string; description?: string }>;
  directive: number;
}

/** Values that come from the cluster (or the kubeconfig), by what they name; `flags` are the connection flags typed so far. */
export type NameLookup = (kind: NameKind, flags: Record<string, string>) => Promise<string[]>;

/** Flags whose values are names of something in the cluster. */
const NAME_FLAGS: Record<string, NameKind> = {
  "--node": "node",
  "--class": "storageclass",
  "--namespace": "namespace",
  "--context": "context",
};
/** Flags whose values are files: the shell completes them. */
const FILE_FLAGS = new Set(["--kubeconfig", "--from-file"]);
/** Flags the cluster connection depends on, passed to `lookup`. */
const CONNECTION_FLAGS = new Set(["--kubeconfig", "--context", "--namespace"]);

const longName = (o: Option): string => o.long ?? o.short ?? "";

function findOption(cmds: readonly Command[], flag: string): Option | undefined {
  for (const c of cmds) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return o;
  }
  return undefined;
}

async function valuesOf(
  option: Option,
  prefix: string,
  flags: Record<string, string>,
  lookup: NameLookup,
): Promise<Completion> {
  const name = longName(option);
  if (option.argChoices) {
    return {
      candidates: option.argChoices.filter((c) => c.startsWith(prefix)).map((value) => ({ value })),
      directive: DIRECTIVE.noFileComp,
    };
  }
  if (FILE_FLAGS.has(name)) return { candidates: [], directive: DIRECTIVE.default };
  const kind = NAME_FLAGS[name];
  if (!kind) return { candidates: [], directive: DIRECTIVE.noFileComp };
  const names = await lookup(kind, flags).catch(() => []);
  return {
    candidates: names.filter((n) => n.startsWith(prefix)).map((value) => ({ value })),
    directive: DIRECTIVE.noFileComp,
  };
}

export async function complete(program: Command, words: readonly string[], lookup: NameLookup): Promise<Completion> {
  const toComplete = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  let sub: Command | undefined;
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const w = before[i]!;
    const cmds = sub ? [sub, program] : [program];
    if (w.startsWith("-")) {
      const [flag, inline] = w.split(/=(.*)/s, 2) as [string, string | undefined];
      const option = findOption(cmds, flag);
      if (!option || option.isBoolean()) continue;
      const value = inline ?? before[++i];
      if (value === undefined) {
        // The flag's value is the word being completed.
        return valuesOf(option, toComplete, flags, lookup);
      }
      if (CONNECTION_FLAGS.has(longName(option))) flags[longName(option)] = value;
      continue;
    }
    if (!sub) sub = program.commands.find((c) => c.name() === w);
    else positional.push(w);
  }
  if (toComplete.startsWith("-")) {
    const eq = toComplete.indexOf("=");
    const cmds = sub ? [sub, program] : [program];
    if (eq > 0) {
      const option = findOption(cmds, toComplete.slice(0, eq));
      if (!option || option.isBoolean()) return { candidates: [], directive: DIRECTIVE.noFileComp };
      const values = await valuesOf(option, toComplete.slice(eq + 1), flags, lookup);
      const head = toComplete.slice(0, eq + 1);
      return { ...values, candidates: values.candidates.map((c) => ({ ...c, value: head + c.value })) };
    }
    const candidates = cmds
      .flatMap((c) => c.options)
      .filter((o) => !o.hidden)
      .map((o) => ({ value: longName(o), description: o.description }))
      .filter((c) => c.value.startsWith(toComplete));
    return { candidates, directive: DIRECTIVE.noFileComp };
  }
  if (!sub) {
    const candidates = program.commands
      .filter((c) => c.name() !== "help")
      .map((c) => ({ value: c.name(), description: c.description().split(/[:.]/, 1)[0] }))
      .filter((c) => c.value.startsWith(toComplete));
    return { candidates, directive: DIRECTIVE.noFileComp };
  }
  if (sub.name() === "explain" && positional.length === 0) {
    const pods = await lookup("pending-pod", flags).catch(() => []);
    return {
      candidates: pods.filter((p) => p.startsWith(toComplete)).map((value) => ({ value })),
      directive: DIRECTIVE.noFileComp,
    };
  }
  return { candidates: [], directive: DIRECTIVE.noFileComp };
}

/** The protocol's text: candidates, then `:directive`. Tabs and newlines in descriptions would break it. */
export function completionText(c: Completion): string {
  const clean = (s: string) => s.replace(/[\t\n]+/g, " ");
  const lines = c.candidates.map((x) => (x.description ? `${x.value}\t${clean(x.description)}` : x.value));
  return `${[...lines, `:${c.directive}`].join("\n")}\n`;
}
