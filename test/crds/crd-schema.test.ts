import { readFile } from "node:fs/promises";
import test from "ava";
import { Ajv, type ValidateFunction } from "ajv";
import { parse } from "yaml";
import { allCrds, NLS_PRINTER_COLUMNS } from "@nls/api";
import { openLocalWrittenNls, seedInitConfig, seedNls } from "./samples.js";

const crdsDir = new URL("../../crds/", import.meta.url);

async function loadCrd(file: string) {
  return parse(await readFile(new URL(file, crdsDir), "utf8")) as ReturnType<typeof allCrds>[string];
}

function validator(crd: ReturnType<typeof allCrds>[string]): ValidateFunction {
  // Kubernetes' own keywords (x-kubernetes-*) and formats (int64) are not JSON Schema; ajv must not choke.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(crd.spec.versions[0]!.schema.openAPIV3Schema);
}

test("crds/ is generated from @nls/api and up to date (run pnpm gen:crds)", async (t) => {
  for (const [file, want] of Object.entries(allCrds())) {
    t.deepEqual(await loadCrd(file), JSON.parse(JSON.stringify(want)), file);
  }
});

test("the NLS CRD is cluster-scoped, has a status subresource, short name nls and open-local's columns", async (t) => {
  const crd = await loadCrd("csi.aliyun.com_nodelocalstorages.yaml");
  t.is(crd.spec.scope, "Cluster");
  t.deepEqual(crd.spec.names.shortNames, ["nls"]);
  const v = crd.spec.versions[0]!;
  t.deepEqual(v.subresources, { status: {} });
  const paths = v.additionalPrinterColumns.map((c) => c.jsonPath);
  for (const p of [
    ".status.nodeStorageInfo.state.type",
    ".status.nodeStorageInfo.phase",
    ".status.nodeStorageInfo.state.lastHeartbeatTime",
    ".status.filteredStorageInfo.updateStatusInfo.lastUpdateTime",
    ".status.filteredStorageInfo.updateStatusInfo.updateStatus",
    ".status.summary.volumeGroups",
    ".status.summary.allocatable",
    ".status.summary.free",
  ]) {
    t.true(paths.includes(p), p);
  }
  t.is(NLS_PRINTER_COLUMNS.length, v.additionalPrinterColumns.length);
});

test("the schema is structural: every property has a type, no anyOf/const/patternProperties", async (t) => {
  const problems: string[] = [];
  const walk = (node: Record<string, unknown>, path: string) => {
    for (const bad of ["anyOf", "oneOf", "const", "patternProperties", "$id", "$ref"])
      if (bad in node) problems.push(`${path}: ${bad}`);
    if (!("type" in node) && !("x-kubernetes-preserve-unknown-fields" in node)) problems.push(`${path}: no type`);
    if ("properties" in node && "additionalProperties" in node)
      problems.push(`${path}: properties with additionalProperties`);
    for (const [k, child] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>))
      walk(child, `${path}.${k}`);
    if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
    if (typeof node.additionalProperties === "object")
      walk(node.additionalProperties as Record<string, unknown>, `${path}{}`);
  };
  for (const [file, crd] of Object.entries(allCrds()))
    walk(crd.spec.versions[0]!.schema.openAPIV3Schema as Record<string, unknown>, file);
  t.deepEqual(problems, []);
});

test("sample objects validate against the CRD schemas", async (t) => {
  const nls = validator(await loadCrd("csi.aliyun.com_nodelocalstorages.yaml"));
  const nlsc = validator(await loadCrd("csi.aliyun.com_nodelocalstorageinitconfigs.yaml"));
  for (const [name, v, obj] of [
    ["seed NLS", nls, seedNls],
    ["NLS as open-local writes it", nls, openLocalWrittenNls],
    ["seed NLSC", nlsc, seedInitConfig],
  ] as const) {
    t.true(v(obj), `${name}: ${JSON.stringify(v.errors)}`);
  }
});

const invalidNls: Array<[string, (o: typeof seedNls) => void, RegExp]> = [
  ["negative VG size", (o) => (o.status!.nodeStorageInfo!.volumeGroups![0]!.total = -1), /must be >= 0/],
  ["fractional bytes", (o) => (o.status!.nodeStorageInfo!.deviceInfo![0]!.total = 1.5), /must be integer/],
  [
    "unknown mediaType",
    (o) => ((o.status!.nodeStorageInfo!.deviceInfo![0] as { mediaType: string }).mediaType = "nvme"),
    /allowed values/,
  ],
  [
    "unknown condition",
    (o) => ((o.status!.nodeStorageInfo!.volumeGroups![0] as { condition: string }).condition = "Broken"),
    /allowed values/,
  ],
  [
    "unknown updateStatus",
    (o) => ((o.status!.filteredStorageInfo!.updateStatusInfo as { updateStatus: string }).updateStatus = "ok"),
    /allowed values/,
  ],
  ["VG to init without a name", (o) => (o.spec!.resourceToBeInited!.vgs![0]!.name = ""), /fewer than 1/],
  [
    "VG name longer than LVM's 127",
    (o) => (o.spec!.resourceToBeInited!.vgs![0]!.name = "x".repeat(128)),
    /more than 127/,
  ],
  [
    "VG name that LVM would read as an option",
    (o) => (o.spec!.resourceToBeInited!.vgs![0]!.name = "--test"),
    /pattern/,
  ],
  ["VG name with a space", (o) => (o.spec!.resourceToBeInited!.vgs![0]!.name = "pool 0"), /pattern/],
  ["VG name ..", (o) => (o.spec!.resourceToBeInited!.vgs![0]!.name = ".."), /pattern/],
  [
    "more than 50 include patterns",
    (o) => (o.spec!.listConfig!.devices!.include = Array.from({ length: 51 }, () => "x")),
    /more than 50/,
  ],
  [
    "include not a list",
    (o) => ((o.spec!.listConfig!.devices as { include: unknown }).include = "/dev/vdb"),
    /must be array/,
  ],
];
for (const [name, mutate, message] of invalidNls) {
  test(`the NLS schema rejects ${name}`, async (t) => {
    const v = validator(await loadCrd("csi.aliyun.com_nodelocalstorages.yaml"));
    const obj = structuredClone(seedNls);
    mutate(obj);
    t.false(v(obj));
    t.regex(JSON.stringify(v.errors), message);
  });
}
