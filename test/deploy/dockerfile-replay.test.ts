import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isIgnored, parseCopy, parseDockerfile } from "./dockerfile.js";
import { repoRoot } from "./render.js";
import { hasTool, run, testWithTool } from "./tools.js";

/**
 * No Docker engine here, so replay the Dockerfile's build stage on the committed tree instead:
 * each COPY from a `git archive` of HEAD (filtered by .dockerignore), each RUN in a shell, with the
 * stage's ENV, the WORKDIR and /out moved into a temporary directory. Then the pruned production
 * output of each daemon must start (`--help`) on its own: no dev dependency, no missing file.
 */
const test = testWithTool(hasTool("git", ["--version"]) && hasTool("tar", ["--version"]));

/** Copies `from` to `to`, leaving out what .dockerignore excludes (paths relative to the context). */
async function copyContext(context: string, rel: string, to: string, ignore: string): Promise<void> {
  if (isIgnored(ignore, rel)) return;
  const entries = await readdir(join(context, rel), { withFileTypes: true }).catch(() => undefined);
  if (!entries) {
    await cp(join(context, rel), to);
    return;
  }
  await mkdir(to, { recursive: true });
  for (const e of entries) await copyContext(context, rel ? `${rel}/${e.name}` : e.name, join(to, e.name), ignore);
}

test("the Dockerfile's build stage, replayed without Docker, yields daemons that run from their pruned install", async (t) => {
  const tmp = await mkdtemp(`${tmpdir()}/nls-image-`);
  try {
    const context = join(tmp, "context");
    await mkdir(context);
    const archive = await run("sh", ["-c", `git -C '${repoRoot}' archive HEAD | tar -x -C '${context}'`]);
    t.is(archive.code, 0, archive.stderr);
    const ignore = await readFile(join(context, ".dockerignore"), "utf8");
    const build = parseDockerfile(await readFile(join(context, "Dockerfile"), "utf8")).stages.find(
      (s) => s.name === "build",
    )!;
    const outside = (path: string) => path.replace(/(^|\s)\/(src|out)\b/g, `$1${tmp}/$2`);
    const env: Record<string, string> = {};
    let workdir = tmp;
    for (const ins of build.instructions) {
      if (ins.keyword === "ARG") {
        // Build arguments the replay is not given keep their default, as with `docker build`.
        const [k = "", v = ""] = ins.args.split("=");
        env[k] = JSON.parse(v || '""') as string;
      } else if (ins.keyword === "ENV") {
        const [k = "", v = ""] = ins.args.split("=");
        env[k] = v;
      } else if (ins.keyword === "WORKDIR") {
        workdir = outside(ins.args);
        await mkdir(workdir, { recursive: true });
      } else if (ins.keyword === "COPY") {
        const { sources, dest } = parseCopy(ins.args);
        for (const source of sources) {
          const rel = source.replace(/\/$/, "");
          // Docker copies a directory's contents into dest, and a file into dest/ under its own name.
          const isDir = (await stat(join(context, rel))).isDirectory();
          const target =
            dest.endsWith("/") && !isDir ? join(workdir, dest, rel.split("/").at(-1)!) : join(workdir, dest);
          await copyContext(context, rel, target, ignore);
        }
      } else if (ins.keyword === "RUN" && /^npm i -g pnpm@/.test(ins.args)) {
        // The pnpm on this machine must be the one the image installs.
        const version = await run("pnpm", ["--version"]);
        t.is(`npm i -g pnpm@${version.stdout.trim()}`, ins.args);
      } else if (ins.keyword === "RUN") {
        const result = await run("sh", ["-c", outside(ins.args)], { cwd: workdir, env: { ...process.env, ...env } });
        t.is(result.code, 0, `line ${ins.line}: ${ins.args}\n${(result.stdout + result.stderr).slice(-2000)}`);
        if (result.code !== 0) return;
      } else {
        t.fail(`the replay does not know ${ins.keyword} (line ${ins.line})`);
      }
    }
    for (const [pkg, bin] of [
      ["agent", "nls-agent"],
      ["extender", "nls-extender"],
    ]) {
      // Stamped by the build: the version of package.json; no .git in the context, so no commit.
      const info = JSON.parse(await readFile(join(tmp, "out", pkg!, "dist", "build-info.json"), "utf8")) as object;
      const { version } = JSON.parse(await readFile(join(context, "package.json"), "utf8")) as { version: string };
      t.deepEqual(info, { version, commit: "unknown" });
      const help = await run("node", [join(tmp, "out", pkg!, "dist", "cli.js"), "--help"], { cwd: tmp });
      t.is(help.code, 0, help.stderr);
      t.regex(help.stdout, new RegExp(`^Usage: ${bin} `));
      const devOnly = await readdir(join(tmp, "out", pkg!, "node_modules", ".pnpm"));
      for (const dev of ["ava@", "typescript@", "eslint@", "tsx@"]) {
        t.false(
          devOnly.some((d) => d.startsWith(dev)),
          `${pkg}: no ${dev} in the production install`,
        );
      }
      t.false(
        devOnly.some((d) => d.startsWith("@nls+testkit")),
        `${pkg}: no @nls/testkit in the production install`,
      );
      // Only built code ships, for the daemon and the @nls packages it uses: no sources, tests, test
      // helpers or recorded test data.
      const ours = await readdir(join(tmp, "out", pkg!, "node_modules", "@nls"));
      t.deepEqual(ours.sort(), ["api", "daemon"], `${pkg}: the @nls packages in the production install`);
      for (const dir of [
        join(tmp, "out", pkg!),
        ...ours.map((p) => join(tmp, "out", pkg!, "node_modules", "@nls", p)),
      ]) {
        const files = (await readdir(dir, { recursive: true })).filter((f) => !f.startsWith("node_modules"));
        t.true(files.includes(join("dist", "index.js")), `${dir} holds dist/`);
        const notProduct = files.filter((f) => /(^src\/|\.test\.|testdata|testing|fake|fixture)/.test(f));
        t.deepEqual(notProduct, [], `${dir} ships only the product`);
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
