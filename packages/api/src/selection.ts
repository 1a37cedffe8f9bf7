import { RE2JS } from "re2js";
import type { IncludeExclude, ListConfig } from "./nodelocalstorage.js";

/**
 * The `listConfig` selection rule (docs/nodelocalstorage.md): start empty, add every candidate that an include pattern
 * matches in full, then remove every candidate that an exclude pattern matches in full. Patterns are
 * RE2 (as in open-local, which is Go), so matching is linear-time whatever the pattern.
 *
 * Invalid patterns are returned as data, never thrown. An invalid include pattern is skipped (it can
 * only select less). An invalid exclude pattern makes the whole list select nothing: an exclude exists
 * to protect something (often the root disk), and ignoring it would hand that thing out.
 */

export interface PatternError {
  field: "include" | "exclude";
  pattern: string;
  error: string;
}

export interface SelectionResult {
  selected: string[];
  errors: PatternError[];
}

export type CompiledPattern = { ok: true; re: RE2JS } | { ok: false; error: string };

const compiled = new Map<string, CompiledPattern>();
const COMPILE_CACHE_LIMIT = 1024;

/** Compiles an RE2 pattern, memoised: the agent re-applies the same few patterns every scan. */
export function compilePattern(pattern: string): CompiledPattern {
  let hit = compiled.get(pattern);
  if (!hit) {
    try {
      hit = { ok: true, re: RE2JS.compile(pattern) };
    } catch (e) {
      hit = { ok: false, error: (e as Error).message };
    }
    if (compiled.size >= COMPILE_CACHE_LIMIT) compiled.clear();
    compiled.set(pattern, hit);
  }
  return hit;
}

export function select(candidates: Iterable<string>, rule: IncludeExclude | undefined): SelectionResult {
  const errors: PatternError[] = [];
  const compileAll = (field: PatternError["field"], patterns: string[] | undefined): RE2JS[] => {
    const out: RE2JS[] = [];
    for (const pattern of patterns ?? []) {
      const c = compilePattern(pattern);
      if (c.ok) out.push(c.re);
      else errors.push({ field, pattern, error: c.error });
    }
    return out;
  };
  const include = compileAll("include", rule?.include);
  const exclude = compileAll("exclude", rule?.exclude);
  if (errors.some((e) => e.field === "exclude")) return { selected: [], errors };

  const selected = new Set<string>();
  for (const name of candidates) {
    if (include.some((re) => re.matches(name)) && !exclude.some((re) => re.matches(name))) selected.add(name);
  }
  return { selected: [...selected].sort(), errors };
}

export interface StorageCandidates {
  devices: Iterable<string>;
  vgs: Iterable<string>;
  mountPoints: Iterable<string>;
}

export interface StorageSelection {
  devices: string[];
  volumeGroups: string[];
  mountPoints: string[];
  /** Each error names the list it came from, e.g. `listConfig.vgs.include`. */
  errors: Array<PatternError & { list: keyof ListConfig }>;
}

/** Applies all three lists of a `listConfig` at once. */
export function selectStorage(listConfig: ListConfig | undefined, candidates: StorageCandidates): StorageSelection {
  const errors: StorageSelection["errors"] = [];
  const run = (list: keyof ListConfig, names: Iterable<string>): string[] => {
    const r = select(names, listConfig?.[list]);
    for (const e of r.errors) errors.push({ ...e, list });
    return r.selected;
  };
  return {
    devices: run("devices", candidates.devices),
    volumeGroups: run("vgs", candidates.vgs),
    mountPoints: run("mountPoints", candidates.mountPoints),
    errors,
  };
}

/** One line per error, for `updateStatusInfo.reason` and Events. */
export function describePatternErrors(errors: StorageSelection["errors"]): string {
  return errors
    .map((e) => `listConfig.${e.list}.${e.field}: invalid pattern ${JSON.stringify(e.pattern)}: ${e.error}`)
    .join("; ");
}
