/** Parses a tool's JSON output; a tool that printed something else becomes the caller's parse error. */
export function parseToolJson(text: string, what: string, error: new (message: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new error(`${what} is not JSON: ${(e as Error).message}`);
  }
}
