import { ApiException } from "@kubernetes/client-node";

/** A short text for an error of the API or the network. */
export function errorText(e: unknown): string {
  if (e instanceof ApiException) {
    const body = e.body as { message?: unknown } | string | undefined;
    const message = typeof body === "string" ? body : typeof body?.message === "string" ? body.message : "";
    return `HTTP ${e.code}${message ? `: ${message.trim().split("\n")[0]}` : ""}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The HTTP status of an API error, or undefined for any other error (the network, a bad reply). */
export const apiStatus = (e: unknown): number | undefined => (e instanceof ApiException ? e.code : undefined);
