import { Option, type Command } from "commander";
import { usageError } from "./program.js";

/**
 * One flag of a daemon or command: commander syntax, help, environment variable, default and parser.
 * Values stay strings while commander parses and are parsed only when the command runs (`readFlags`):
 * commander reads a root option's environment variable for every subcommand too, and a daemon setting
 * such as a bad `NLS_INTERVAL` must not break `nls-agent scan`.
 */
export interface FlagSpec<T> {
  /** Commander syntax: `--interval <duration>`, `-o, --output <format>`, or `--seed` for a switch. */
  flags: string;
  help: string;
  env?: string;
  /** The default as a user would type it; it is parsed like any other value. */
  default?: string;
  /** How `--help` shows the default when not as typed (`none` for an empty default). */
  defaultHelp?: string;
  /** Turns the text into the value; throws an `Error` saying what was expected. Not called for a switch. */
  parse: (value: string) => T;
}

/** A command's flags by the name commander stores them under (`--lease-namespace` → `leaseNamespace`). */
export type FlagSpecs = Record<string, FlagSpec<unknown>>;

/** What `readFlags` returns: each flag's parsed value, `undefined` only for a flag without default. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K] extends FlagSpec<infer T> & { default: string }
    ? T
    : S[K] extends FlagSpec<infer T>
      ? T | undefined
      : never;
};

/** Declares a flag; with a `default` its value is never `undefined`. */
export function flag<T>(spec: FlagSpec<T> & { default: string }): FlagSpec<T> & { default: string };
export function flag<T>(spec: FlagSpec<T>): FlagSpec<T>;
export function flag<T>(spec: FlagSpec<T>): FlagSpec<T> {
  return spec;
}

/** A switch such as `--seed`: `true` when given (or when its variable is set), else `undefined`. */
export function switchFlag(flags: string, help: string): FlagSpec<boolean> {
  return { flags, help, parse: () => true };
}

/** Adds the flags to `cmd`, with each variable and default shown in `--help`. */
export function addFlags(cmd: Command, specs: FlagSpecs): Command {
  for (const [key, spec] of Object.entries(specs)) {
    const option = new Option(spec.flags, spec.help);
    if (option.attributeName() !== key) {
      throw new Error(`flag ${spec.flags} is stored as "${option.attributeName()}", declared as "${key}"`);
    }
    if (spec.env) option.env(spec.env);
    if (spec.default !== undefined) {
      option.default(spec.default, spec.defaultHelp ?? (spec.default === "" ? "none" : spec.default));
    }
    cmd.addOption(option);
  }
  return cmd;
}

/**
 * The parsed values of `cmd`'s flags. A value its parser rejects is a usage error naming the flag, the
 * value and where it came from: `option '--interval <duration>' value 'soon' from env 'NLS_INTERVAL' is
 * invalid: …`.
 */
export function readFlags<S extends FlagSpecs>(cmd: Command, specs: S): FlagValues<S> {
  const raw = cmd.opts<Record<string, unknown>>();
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const value = raw[key];
    if (typeof value !== "string") {
      values[key] = value;
      continue;
    }
    try {
      values[key] = spec.parse(value);
    } catch (err) {
      const from = cmd.getOptionValueSource(key) === "env" ? ` from env '${spec.env}'` : "";
      usageError(cmd, `option '${spec.flags}' value '${value}'${from} is invalid: ${(err as Error).message}`);
    }
  }
  return values as FlagValues<S>;
}

/** A parser accepting exactly one of `values`. */
export function parseOneOf<T extends string>(what: string, values: readonly T[]): (value: string) => T {
  return (value) => {
    if ((values as readonly string[]).includes(value)) return value as T;
    throw new Error(`invalid ${what} "${value}": expected one of ${values.join(", ")}`);
  };
}

/** The value as given: for flags that take any text. */
export const asText = (value: string): string => value;
