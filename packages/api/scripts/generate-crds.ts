/**
 * Writes (`--write`) or checks (`--check`, the default) `crds/*.yaml` against the CRDs built from the
 * TypeBox schemas in `@nls/api`.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { allCrds } from "../src/crd/definitions.js";

const crdsDir = fileURLToPath(new URL("../../../crds/", import.meta.url));
const header = "# Generated from packages/api (TypeBox schemas) by `pnpm gen:crds`. Do not edit by hand.\n";

export const renderCrd = (obj: unknown): string => header + stringify(obj, { lineWidth: 0 });

const write = process.argv.includes("--write");
let stale = 0;
for (const [file, obj] of Object.entries(allCrds())) {
  const path = crdsDir + file;
  const text = renderCrd(obj);
  if (write) {
    await writeFile(path, text);
    console.log(`wrote crds/${file}`);
  } else if ((await readFile(path, "utf8").catch(() => "")) !== text) {
    console.error(`crds/${file} is out of date: run pnpm gen:crds`);
    stale++;
  }
}
process.exit(stale ? 1 : 0);
