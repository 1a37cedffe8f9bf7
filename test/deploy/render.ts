import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments, stringify } from "yaml";
import { run } from "./tools.js";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const deployDir = `${repoRoot}deploy/`;

/** A rendered Kubernetes object, loosely typed: the tests check its shape. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

const rendered = new Map<string, Promise<KubeObject[]>>();

/** `kubectl kustomize <deploy/dir>` as objects (a fresh copy per call); throws with kubectl's message. */
export async function kustomize(dir = ""): Promise<KubeObject[]> {
  let objects = rendered.get(dir);
  if (!objects) {
    objects = run("kubectl", ["kustomize", `${deployDir}${dir}`]).then(({ code, stdout, stderr }) => {
      if (code !== 0) throw new Error(`kubectl kustomize deploy/${dir} failed: ${stderr}`);
      return parseAllDocuments(stdout).map((d) => d.toJSON() as KubeObject);
    });
    rendered.set(dir, objects);
  }
  return structuredClone(await objects);
}

/** The base with one component of deploy/components applied, as an operator's overlay would. */
export const kustomizeWithComponent = (component: string): Promise<KubeObject[]> =>
  overlay(component, (dir) => ({ resources: [relative(dir, `${deployDir}base`)] }));

/** `objects` (an operator's own manifests) with one component of deploy/components applied. */
export const kustomizeOver = (objects: object[], component: string): Promise<KubeObject[]> =>
  overlay(component, async (dir) => {
    await writeFile(`${dir}/objects.yaml`, objects.map((o) => stringify(o)).join("---\n"));
    return { resources: ["objects.yaml"] };
  });

async function overlay(
  component: string,
  resources: (dir: string) => { resources: string[] } | Promise<{ resources: string[] }>,
): Promise<KubeObject[]> {
  const dir = await mkdtemp(`${tmpdir()}/nls-overlay-`);
  try {
    await writeFile(
      `${dir}/kustomization.yaml`,
      stringify({
        ...(await resources(dir)),
        components: [relative(dir, `${deployDir}components/${component}`)],
      }),
    );
    // The overlay lives outside the repository, so kustomize must be allowed to load the base from it.
    const { code, stdout, stderr } = await run("kubectl", ["kustomize", "--load-restrictor=LoadRestrictionsNone", dir]);
    if (code !== 0) throw new Error(`kubectl kustomize with components/${component} failed: ${stderr}`);
    return parseAllDocuments(stdout).map((d) => d.toJSON() as KubeObject);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function readYaml<T = unknown>(pathFromRepo: string): Promise<T> {
  return parse(await readFile(`${repoRoot}${pathFromRepo}`, "utf8")) as T;
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
}
