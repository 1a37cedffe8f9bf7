import { readFileSync } from "node:fs";

/**
 * The Node flags the image gives a daemon: its entry point `/usr/local/bin/<bin>` in the repository's
 * Dockerfile is `exec node <flags> /app/packages/<pkg>/dist/cli.js "$@"`, and deploy/ runs that entry
 * point. Benchmarks run the daemon with these flags, so their figures are those of what ships.
 */
export function imageNodeFlags(dockerfile: string, pkg: string): string[] {
  const entry = `/app/packages/${pkg}/dist/cli.js`.replaceAll(".", "\\.");
  const flags = new RegExp(`exec node ((?:--\\S+ )*)${entry} `).exec(dockerfile)?.[1];
  if (flags === undefined) throw new Error(`Dockerfile: no \`exec node ... /app/packages/${pkg}/dist/cli.js\``);
  return flags.split(" ").filter(Boolean);
}

/** `imageNodeFlags` of the repository's Dockerfile. */
export function repositoryImageNodeFlags(pkg: string): string[] {
  return imageNodeFlags(readFileSync(new URL("../../../Dockerfile", import.meta.url), "utf8"), pkg);
}
