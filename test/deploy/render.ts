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

/**
 * An operator's overlay outside the repository: `kustomization` with its `resources` and `components`
 * given as paths below deploy/ (e.g. `{ resources: ["base"], namePrefix: "acme-" }`), or as names of
 * `files` written next to it.
 */
export async function kustomizeOverlay(
  kustomization: { resources?: string[]; components?: string[]; [field: string]: unknown },
  files: Record<string, string> = {},
): Promise<KubeObject[]> {
  const dir = await mkdtemp(`${tmpdir()}/nls-overlay-`);
  try {
    const paths = (list: string[] | undefined) =>
      list?.map((p) => (p in files ? p : relative(dir, `${deployDir}${p}`)));
    for (const [name, text] of Object.entries(files)) await writeFile(`${dir}/${name}`, text);
    await writeFile(
      `${dir}/kustomization.yaml`,
      stringify({
        ...kustomization,
        resources: paths(kustomization.resources),
        ...(kustomization.components ? { components: paths(kustomization.components) } : {}),
      }),
    );
    // The overlay lives outside the repository, so kustomize must be allowed to load the base from it.
    const { code, stdout, stderr } = await run("kubectl", ["kustomize", "--load-restrictor=LoadRestrictionsNone", dir]);
    if (code !== 0) throw new Error(`kubectl kustomize of ${JSON.stringify(kustomization)} failed: ${stderr}`);
    return parseAllDocuments(stdout).map((d) => d.toJSON() as KubeObject);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The components that mark pods for the extender: deploy/ holds the webhook, so they go on deploy/base. */
const MARKING = ["managed-resources", "managed-resources-webhook"];

/**
 * deploy/ with one component of deploy/components applied, as an operator's overlay would; a marking
 * component (deploy/'s own webhook, or the MutatingAdmissionPolicy in its place) on deploy/base.
 */
export const kustomizeWithComponent = (component: string): Promise<KubeObject[]> =>
  kustomizeOverlay({ resources: [MARKING.includes(component) ? "base" : ""], components: [`components/${component}`] });

/** `objects` (an operator's own manifests) with one component of deploy/components applied. */
export const kustomizeOver = (objects: object[], component: string): Promise<KubeObject[]> =>
  kustomizeOverlay(
    { resources: ["objects.yaml"], components: [`components/${component}`] },
    { "objects.yaml": objects.map((o) => stringify(o)).join("---\n") },
  );

/** deploy/ renamed by an operator's overlay (`namePrefix: acme-`): what the policies must survive. */
export const renamedOverlay = { resources: [""], namePrefix: "acme-" };

export async function readYaml<T = unknown>(pathFromRepo: string): Promise<T> {
  return parse(await readFile(`${repoRoot}${pathFromRepo}`, "utf8")) as T;
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
}
