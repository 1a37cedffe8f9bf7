import { Command, CommanderError } from "commander";

/** Exit codes of both daemons: 0 done, 1 failed (at start or while running), 2 the command line is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * A failure that stops a daemon before it serves anything (a kubeconfig that cannot be loaded, a port
 * in use): `runCli` prints its message as one line on stderr and exits 1.
 */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** Stops with `error: <message>` on stderr and exit code 2 (or throws, under `exitOverride`). */
export function usageError(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: EXIT_USAGE, code: "nls.usageError" });
}

/**
 * The root command of one of nls' binaries (the daemons, the simulation): name, description and
 * `--version`, and one answer to a stray word on the command line: `unknown command: <word>` with the
 * commands there are, or, for a binary without subcommands, `unexpected argument: <word>` (instead of
 * commander's "too many arguments").
 */
export function rootCommand(name: string, description: string, version: string): Command {
  const program = new Command(name).description(description).version(version).allowExcessArguments(true);
  program.hook("preAction", (_hooked, actionCommand) => {
    const [word] = actionCommand === program ? program.args : [];
    if (word === undefined) return;
    const commands = program.commands.map((c) => c.name());
    usageError(
      program,
      commands.length > 0
        ? `unknown command: ${word} (commands: ${commands.join(", ")}; see ${name} --help)`
        : `unexpected argument: ${word} (${name} takes options only; see ${name} --help)`,
    );
  });
  return program;
}

/**
 * Parses `argv` and runs the chosen action, and returns the exit code: 2 for every command-line error
 * (commander's own included, which would exit 1), 0 for `--help` and `--version`, 1 and one line
 * `<name>: error: <message>` on stderr for a `StartupError`. Any other error escaping an action is a bug:
 * its stack goes to stderr, exit 1. An action that returns normally leaves the code to `process.exitCode`.
 */
export async function runCli(program: Command, argv: readonly string[] = process.argv): Promise<number | undefined> {
  const throwInstead = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(throwInstead);
  };
  throwInstead(program);
  const writeErr = program.configureOutput().writeErr ?? ((text: string) => void process.stderr.write(text));
  try {
    await program.parseAsync(argv);
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE;
    if (err instanceof StartupError) {
      writeErr(`${program.name()}: error: ${oneLine(err.message)}\n`);
      return EXIT_FAILURE;
    }
    writeErr(`${program.name()}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILURE;
  }
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim();

/** A binary's whole main: runs `program` and sets the process's exit code from `runCli`. */
export async function main(program: Command): Promise<void> {
  const code = await runCli(program);
  if (code !== undefined) process.exitCode = code;
}
