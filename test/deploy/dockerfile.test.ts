import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isDeepStrictEqual } from "node:util";
import { imageNodeFlags } from "@nls/testkit";
import test from "ava";
import { parse } from "yaml";
import { isIgnored, parseCopy, parseDockerfile, type Stage } from "./dockerfile.js";
import { repoRoot } from "./render.js";

const read = (path: string) => readFile(`${repoRoot}${path}`, "utf8");
const dockerfile = async () => parseDockerfile(await read("Dockerfile"));
const daemons = [
  ["agent", "nls-agent"],
  ["extender", "nls-extender"],
] as const;

const ignoreCases: Array<[string, string, boolean]> = [
  ["**/node_modules", "node_modules", true],
  ["**/node_modules", "packages/agent/node_modules/x/index.js", true],
  ["**/dist", "packages/api/dist/index.js", true],
  ["**/*.tsbuildinfo", "packages/api/tsconfig.tsbuildinfo", true],
  ["deploy", "deploy/base/kustomization.yaml", true],
  ["deploy", "packages/deploy.ts", false],
  ["**/dist", "packages/api/src/distance.ts", false],
  ["docs\n!docs/keep.md", "docs/keep.md", false],
];
for (const [patterns, path, want] of ignoreCases) {
  test(`.dockerignore matching: ${JSON.stringify(patterns)} ${want ? "ignores" : "keeps"} ${path}`, (t) => {
    t.is(isIgnored(patterns, path), want);
  });
}

test("base images are Node.js's active LTS line (26, or a later even major) on Debian 13 slim", async (t) => {
  const { stages } = await dockerfile();
  t.true(stages.length >= 2, "multi-stage");
  for (const stage of stages) {
    const m = /^node:(\d+)(\.\d+\.\d+)?-trixie-slim(@sha256:[0-9a-f]{64})?$/.exec(stage.from);
    t.truthy(m, `FROM ${stage.from}`);
    const major = Number(m?.[1]);
    t.true(major >= 26 && major % 2 === 0, `Node ${major} is not the active LTS line`);
  }
});

test("the bake file builds on the Dockerfile's base unless NODE_IMAGE pins another", async (t) => {
  const bake = JSON.parse(await read("docker-bake.json")) as {
    variable: Record<string, { default: string }>;
    target: Record<string, { args: Record<string, string> }>;
  };
  const arg = /^ARG NODE_IMAGE=(.+)$/m.exec(await read("Dockerfile"))?.[1];
  t.is(bake.variable.NODE_IMAGE?.default, arg);
  t.is(bake.target.nls?.args.NODE_IMAGE, "${NODE_IMAGE}");
});

test("the code keeps running on the oldest Node.js the manifests allow", async (t) => {
  const { engines } = JSON.parse(await read("package.json")) as { engines: { node: string } };
  t.is(engines.node, ">=20.19");
});

test("the build stage uses the pinned pnpm and a frozen lockfile, with every workspace manifest copied first", async (t) => {
  const build = (await dockerfile()).stages.find((s) => s.name === "build")!;
  const runs = build.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
  const { packageManager } = JSON.parse(await read("package.json")) as { packageManager: string };
  t.true(runs.includes(`npm i -g ${packageManager}`), packageManager);
  const installAt = build.instructions.findIndex((i) => i.args === "pnpm install --frozen-lockfile");
  t.true(installAt > 0);
  const copiedBefore = build.instructions
    .slice(0, installAt)
    .filter((i) => i.keyword === "COPY")
    .flatMap((i) => {
      const { sources, dest } = parseCopy(i.args);
      return sources.map((s) => (dest.endsWith("/") && dest !== "./" ? `${dest}${s.split("/").at(-1)}` : s));
    });
  const workspace = parse(await read("pnpm-workspace.yaml")) as { packages: string[] };
  const manifests = ["package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml"];
  for (const pattern of workspace.packages) {
    const dirs = pattern.endsWith("/*")
      ? readdirSync(`${repoRoot}${pattern.slice(0, -2)}`).map((d) => `${pattern.slice(0, -1)}${d}`)
      : [pattern];
    for (const dir of dirs.filter((d) => existsSync(`${repoRoot}${d}/package.json`)))
      manifests.push(`${dir}/package.json`);
  }
  for (const m of manifests) t.true(copiedBefore.includes(m), `${m} copied before pnpm install`);
});

test("every COPY from the context names a file that exists and that .dockerignore lets through", async (t) => {
  const { stages } = await dockerfile();
  const ignore = await read(".dockerignore");
  const copies = stages.flatMap((s) =>
    s.instructions.filter((i) => i.keyword === "COPY").map((i) => parseCopy(i.args)),
  );
  let checked = 0;
  for (const copy of copies.filter((c) => !c.from)) {
    for (const source of copy.sources) {
      const path = source.replace(/\/$/, "");
      t.true(existsSync(`${repoRoot}${path}`), `${source} exists`);
      t.false(isIgnored(ignore, path), `${source} is not ignored`);
      checked++;
    }
  }
  t.true(checked >= 8);
  // The sources of the daemons get in; local builds and dependencies do not.
  t.false(isIgnored(ignore, "packages/agent/src/cli.ts"));
  t.true(isIgnored(ignore, "packages/agent/dist/cli.js"));
  t.true(isIgnored(ignore, "packages/agent/node_modules/execa/package.json"));
});

function producedIn(stage: Stage, path: string): boolean {
  return stage.instructions.some((i) => i.keyword === "RUN" && new RegExp(`(^|\\s)${path}(\\s|$)`).test(i.args));
}

test("the runtime copies each daemon's pnpm deploy output from the build stage to /app/packages/<name>", async (t) => {
  const { stages } = await dockerfile();
  const runtime = stages.at(-1)!;
  const build = stages.find((s) => s.name === "build")!;
  const copies = runtime.instructions.filter((i) => i.keyword === "COPY").map((i) => parseCopy(i.args));
  for (const [pkg] of daemons) {
    const copy = copies.find((c) => c.dest === `/app/packages/${pkg}`);
    t.is(copy?.from, "build", pkg);
    t.deepEqual(copy?.sources, [`/out/${pkg}`]);
    t.true(producedIn(build, `/out/${pkg}`), `/out/${pkg} is made by a RUN of the build stage`);
    t.true(
      build.instructions.some((i) => i.args.includes(`pnpm --filter @nls/${pkg} deploy --prod --legacy /out/${pkg}`)),
      `pnpm deploy of @nls/${pkg}`,
    );
  }
});

test("the runtime has lvm2, util-linux, e2fsprogs and xfsprogs, and runs as a numeric non-root user by default", async (t) => {
  const runtime = (await dockerfile()).stages.at(-1)!;
  const install = runtime.instructions.find((i) => i.keyword === "RUN" && i.args.includes("apt-get install"));
  for (const pkg of ["lvm2", "util-linux", "e2fsprogs", "xfsprogs"])
    t.regex(install?.args ?? "", new RegExp(`\\b${pkg}\\b`));
  t.regex(install?.args ?? "", /--no-install-recommends/);
  t.regex(install?.args ?? "", /rm -rf \/var\/lib\/apt\/lists/);
  const user = runtime.instructions.filter((i) => i.keyword === "USER").at(-1)?.args;
  t.regex(user ?? "", /^[1-9]\d*(:\d+)?$/);
});

for (const [pkg, bin] of daemons) {
  // Until a daemon's CLI exists the image has no entry point for it: say so rather than pass.
  const cliTest = existsSync(`${repoRoot}packages/${pkg}/src/cli.ts`) ? test : test.skip;
  cliTest(
    `${bin}: the image's entry point is what pnpm build makes of the package's bin, and deploy/ runs it`,
    async (t) => {
      const manifest = JSON.parse(await read(`packages/${pkg}/package.json`)) as { bin: Record<string, string> };
      t.is(manifest.bin[bin], "./dist/cli.js");
      const tsconfig = JSON.parse(await read(`packages/${pkg}/tsconfig.json`)) as {
        compilerOptions: { rootDir: string; outDir: string };
      };
      t.deepEqual(tsconfig.compilerOptions, { rootDir: "src", outDir: "dist" });
      const entry = `/app/packages/${pkg}/dist/cli.js`;
      const escaped = entry.replaceAll(".", "\\.");
      const runtime = (await dockerfile()).stages.at(-1)!;
      // The entry point: `exec node [V8/Node flags] <entry> "$@"`, written to /usr/local/bin/<bin>.
      const wrapper = runtime.instructions
        .filter((i) => i.keyword === "RUN")
        .map((i) =>
          new RegExp(`exec node ((?:--[a-z-]+=\\S+ )*)${escaped} "\\$@"\\\\n' > /usr/local/bin/${bin}\\b`).exec(i.args),
        )
        .find(Boolean);
      t.truthy(wrapper, `/usr/local/bin/${bin} runs node ${entry}`);
      const nodeFlags = wrapper![1]!.split(" ").filter(Boolean);
      const workload = await read(
        pkg === "agent" ? "deploy/base/agent/daemonset.yaml" : "deploy/base/extender/deployment.yaml",
      );
      const pod = (
        parse(workload.split(/^---$/m)[0]!) as {
          spec: { template: { spec: { containers: Array<{ command: string[] }> } } };
        }
      ).spec.template.spec;
      // deploy/ runs that entry point, or exactly what it runs: the same flags, one place to set them.
      const command = pod.containers[0]!.command;
      t.true(
        isDeepStrictEqual(command, [bin]) || isDeepStrictEqual(command, ["node", ...nodeFlags, entry]),
        command.join(" "),
      );
      // Each daemon's heap settings (the agent's, for its idle RSS; the extender's young generation, for
      // its RSS and its pauses under load) live in the image, so a run by hand behaves as deployed, and
      // the benchmarks read them from there.
      t.deepEqual(
        nodeFlags,
        pkg === "agent" ? ["--max-semi-space-size=1", "--max-old-space-size=128"] : ["--max-semi-space-size=2"],
      );
      t.deepEqual(command, [bin]);
      t.deepEqual(imageNodeFlags(await read("Dockerfile"), pkg), nodeFlags, "what the benchmarks run");
    },
  );
}
