import { pino, type DestinationStream, type Logger } from "pino";
import { flag, parseOneOf } from "./flags.js";

export type { Logger } from "pino";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const parseLogLevel: (value: string) => LogLevel = parseOneOf("log level", LOG_LEVELS);

/** `--log-level`, the same in both daemons. */
export const logLevelFlag = flag({
  flags: "--log-level <level>",
  help: `log level: ${LOG_LEVELS.join(", ")}`,
  env: "NLS_LOG_LEVEL",
  default: "info",
  parse: parseLogLevel,
});

/** How an `err` field is logged: always an object with `type`, `message` and `stack`. */
export interface LoggedError {
  type: string;
  message: string;
  stack: string;
  [field: string]: unknown;
}

/**
 * An Error as pino's serializer shows it (own fields and the `cause` chain kept); anything else that was
 * thrown becomes `{type, message, stack: ""}` rather than a bare string, so `err.message` is always there.
 */
export function serializeError(value: unknown): LoggedError {
  if (value instanceof Error) {
    const out = pino.stdSerializers.errWithCause(value) as unknown as LoggedError;
    return { ...out, stack: out.stack ?? "" };
  }
  return { type: value === null ? "null" : typeof value, message: String(value), stack: "" };
}

/**
 * The daemons' logger: one JSON object per line on stdout (or `destination`) with the level's name, an
 * ISO time and `name`; messages are constant, the variables go in fields, and `err` is serialised by
 * `serializeError` whatever was thrown.
 */
export function createLogger(name: string, level: LogLevel = "info", destination?: DestinationStream): Logger {
  return pino(
    {
      name,
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
    },
    destination,
  );
}
