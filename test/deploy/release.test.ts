/**
 * One version, one image name, one license: the root package.json's version is what every package,
 * deploy/ and the image build use; the image name is one value per tool; everything is Apache-2.0.
 */
import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import test from "ava";
import { parse } from "yaml";
import { parseDockerfile } from "./dockerfile.js";
import { repoRoot } from "./render.js";
import { run } from "./tools.js";

const read = (path: string) => readFile(`${repoRoot}${path}`, "utf8");
const json = async <T>(path: string) => JSON.parse(await read(path)) as T;
const rootVersion = async () => (await json<{ version: string }>("package.json")).version;

/** Every workspace package's manifest (pnpm-workspace.yaml's globs, one level deep). */
async function manifests(): Promise<string[]> {
  const { packages } = parse(await read("pnpm-workspace.yaml")) as { packages: string[] };
  return packages.flatMap((p) =>
    p.endsWith("/*")
      ? readdirSync(`${repoRoot}${p.slice(0, -2)}`)
          .map((d) => `${p.slice(0, -1)}${d}/package.json`)
          .filter((f) => existsSync(`${repoRoot}${f}`))
      : [`${p}/package.json`],
  );
}

interface Bake {
  variable: Record<string, { default: string }>;
  target: Record<string, { platforms: string[]; tags: string[]; args: Record<string, string>; dockerfile: string }>;
}

test("the root package.json holds the version; every workspace package carries the same", async (t) => {
  const version = await rootVersion();
  t.regex(version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  const files = await manifests();
  t.true(files.length >= 4, files.join(", "));
  for (const f of files) t.is((await json<{ version: string }>(f)).version, version, f);
});

test("LICENSE is the Apache License 2.0 and every package says so", async (t) => {
  t.regex(await read("LICENSE"), /^\s*Apache License\s+Version 2\.0, January 2004/);
  for (const f of ["package.json", ...(await manifests())])
    t.is((await json<{ license: string }>(f)).license, "Apache-2.0", f);
});

test("deploy/ runs the image the bake file publishes, tagged with the version", async (t) => {
  const bake = await json<Bake>("docker-bake.json");
  const base = parse(await read("deploy/base/kustomization.yaml")) as {
    images: Array<{ name: string; newName: string; newTag: string }>;
  };
  t.deepEqual(base.images, [
    { name: "nls", newName: `${bake.variable.REGISTRY!.default}/nls`, newTag: await rootVersion() },
  ]);
  t.deepEqual(bake.target.nls!.tags, ["${REGISTRY}/nls:${VERSION}"]);
});

test("the bake file builds linux/amd64 and linux/arm64 and hands the version, commit and base image to the Dockerfile", async (t) => {
  const bake = await json<Bake>("docker-bake.json");
  const target = bake.target.nls!;
  t.deepEqual([...target.platforms].sort(), ["linux/amd64", "linux/arm64"]);
  t.deepEqual(target.args, { NLS_VERSION: "${VERSION}", NLS_COMMIT: "${COMMIT}", NODE_IMAGE: "${NODE_IMAGE}" });
  const { stages } = parseDockerfile(await read(target.dockerfile));
  for (const stage of stages) {
    const args = stage.instructions.filter((i) => i.keyword === "ARG").map((i) => i.args.split("=")[0]);
    t.deepEqual(args, ["NLS_VERSION", "NLS_COMMIT"], `stage ${stage.name}`);
  }
  const labels = stages.at(-1)!.instructions.find((i) => i.keyword === "LABEL")?.args ?? "";
  t.true(labels.includes('org.opencontainers.image.version="${NLS_VERSION}"'));
  t.true(labels.includes('org.opencontainers.image.revision="${NLS_COMMIT}"'));
  t.true(labels.includes('org.opencontainers.image.licenses="Apache-2.0"'));
});

test("scripts/image.sh passes the package.json version and HEAD's commit to docker buildx bake", async (t) => {
  const script = await read("scripts/image.sh");
  t.is((await run("bash", ["-n", `${repoRoot}scripts/image.sh`])).code, 0);
  t.true(script.includes(`VERSION=$(node -p 'require("./package.json").version')`));
  t.true(script.includes("COMMIT=$(git rev-parse HEAD)"));
  t.regex(script, /^exec docker buildx bake "\$@"$/m);
});

test("build-info refuses a version other than package.json's", async (t) => {
  const r = await run("node", [`${repoRoot}scripts/build-info.mjs`], {
    env: { ...process.env, NLS_VERSION: "0.0.0-not-this" },
  });
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    new RegExp(`NLS_VERSION=0\\.0\\.0-not-this but package\\.json says ${(await rootVersion()).replace(/\./g, "\\.")}`),
  );
});
