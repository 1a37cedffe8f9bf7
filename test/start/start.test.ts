/**
 * `npm start`'s main job, through test/start.sh as the user runs it (after the build `npm test` does
 * first): the sample cluster placed with both strategies, ending with `placed N of M pods`.
 */
import test from "ava";
import { Ajv } from "ajv";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";

const root = fileURLToPath(new URL("../../", import.meta.url));
const execFileP = promisify(execFile);

async function start(args: string[] = []): Promise<string[]> {
  const { stdout } = await execFileP("bash", ["test/start.sh", ...args], {
    cwd: root,
    env: { ...process.env, NLS_START_SKIP_SETUP: "1" },
    maxBuffer: 16 * 2 ** 20,
  });
  return stdout.trimEnd().split("\n");
}

const hostScans =
  process.getuid?.() === 0 &&
  (await execFileP("sh", ["-c", "command -v lvm"]).then(
    () => true,
    () => false,
  ));

test("npm start places the sample burst with binpack and spread and ends with `placed N of M pods`", async (t) => {
  const lines = await start();
  t.regex(lines.at(-1)!, /^placed \d+ of \d+ pods$/);
  t.deepEqual(
    lines.filter((l) => l.startsWith("strategy ")),
    ["strategy binpack: 10 pods onto 3 nodes", "strategy spread: 10 pods onto 3 nodes"],
  );
  t.true(lines.includes("cluster samples/cluster.yaml: 3 Nodes, 3 NodeLocalStorages, 2 StorageClasses, 2 PVs, 2 PVCs"));
  // The 250Gi pod is larger than every VG: it is refused with the extender's reason, in both runs.
  t.is(
    lines.filter((l) => /^ {2}pod-10 +250Gi nls-lvm +- +fits nowhere: node-a: vg pool-0: need 250Gi/.test(l)).length,
    2,
  );
  if (hostScans) t.true(lines.includes("kind: NodeLocalStorage"), "the host scan is printed first");
  else t.true(lines[0]!.startsWith("# host scan skipped: it needs root and lvm2"));
});

test("arguments reach the simulation and override the sample burst", async (t) => {
  const lines = await start(["--pods", "2x10Gi", "--strategy", "spread"]);
  t.deepEqual(
    lines.filter((l) => l.startsWith("strategy ") || l.startsWith("placed ")),
    ["strategy spread: 2 pods onto 3 nodes", "placed 2 of 2 pods"],
  );
});

test("the sample cluster's NodeLocalStorages are valid against the CRD schema", async (t) => {
  const crd = parse(await readFile(join(root, "crds/csi.aliyun.com_nodelocalstorages.yaml"), "utf8"));
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(
    crd.spec.versions[0].schema.openAPIV3Schema,
  );
  const docs = parseAllDocuments(await readFile(join(root, "samples/cluster.yaml"), "utf8")).map((d) => d.toJS());
  const nls = docs.filter((d) => d.kind === "NodeLocalStorage");
  t.is(nls.length, 3);
  for (const o of nls) t.true(validate(o), `${o.metadata.name}: ${JSON.stringify(validate.errors)}`);
});
