import { stringify } from "yaml";

/** `-o`: a human table (default, `wide` adds columns), or the whole result for scripts. */
export const OUTPUT_FORMATS = ["table", "wide", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The text a command prints: `json`/`yaml` serialise `data` (stable field order), tables are rendered by the caller. */
export function machineText(format: "json" | "yaml", data: unknown): string {
  return format === "json" ? `${JSON.stringify(data, null, 2)}\n` : stringify(data);
}

/** `83%`: a ratio as a whole percentage. */
export const percent = (ratio: number): string => `${Math.round(ratio * 100)}%`;
