import test from "ava";
import { NodeLocalStorageInitConfigObjectSchema } from "./initconfig.js";
import { NodeLocalStorageObjectSchema, NodeLocalStorageSpecSchema } from "./nodelocalstorage.js";
import { schemaProblems } from "./validation.js";

const SPEC_FIELDS = "nodeName, listConfig, resourceToBeInited, spdkConfig";

const specCases: Array<[string, unknown, string[]]> = [
  ["an empty spec", {}, []],
  [
    "the seed spec",
    {
      listConfig: {
        devices: { include: ["/dev/vd[a-d]+"], exclude: ["/dev/vda"] },
        vgs: { include: ["open-local-pool-[0-9]+"] },
      },
      resourceToBeInited: {
        vgs: [{ name: "open-local-pool-0", devices: ["/dev/vdb3"] }],
        mountpoints: [{ path: "/mnt/a", device: "/dev/vdc", fsType: "ext4", options: ["noatime"] }],
      },
    },
    [],
  ],
  [
    "a typo at the top",
    { listconfig: { vgs: { include: ["x"] } } },
    [`listconfig: unknown field (known: ${SPEC_FIELDS})`],
  ],
  [
    "a typo deeper down",
    { listConfig: { vgs: { includes: ["x"] } } },
    ["listConfig.vgs.includes: unknown field (known: include, exclude)"],
  ],
  [
    "a typo in a list entry",
    { resourceToBeInited: { vgs: [{ name: "a", devices: ["/dev/vdb"], device: "/dev/vdc" }] } },
    ["resourceToBeInited.vgs[0].device: unknown field (known: name, devices)"],
  ],
  [
    "a required field missing is named once",
    { resourceToBeInited: { vgs: [{ name: "a" }], mountpoints: [{ device: "/dev/vdc" }] } },
    ["resourceToBeInited.vgs[0].devices: required", "resourceToBeInited.mountpoints[0].path: required"],
  ],
  ["a wrong type", { listConfig: { vgs: { include: "x" } } }, ["listConfig.vgs.include: expected array"]],
  [
    "a wrong type in a list",
    { listConfig: { vgs: { include: ["x", 1] } } },
    ["listConfig.vgs.include[1]: expected string"],
  ],
  [
    "an empty name",
    { resourceToBeInited: { vgs: [{ name: "", devices: [] }] } },
    ["resourceToBeInited.vgs[0].name: expected string length greater or equal to 1"],
  ],
  ["not a mapping at all", ["x"], ["(top level): expected object"]],
];
for (const [title, value, want] of specCases) {
  test(`schemaProblems(spec): ${title}`, (t) => t.deepEqual(schemaProblems(NodeLocalStorageSpecSchema, value), want));
}

const objectCases: Array<[string, unknown, string[]]> = [
  [
    "an NLS as kubectl prints it: metadata the API server owns and a status are fine",
    {
      apiVersion: "csi.aliyun.com/v1alpha1",
      kind: "NodeLocalStorage",
      metadata: {
        name: "n1",
        annotations: { "csi.aliyun.com/storage-reserved": '{"pool0":"10Gi"}' },
        managedFields: [{ manager: "kubectl" }],
        creationTimestamp: "2026-01-01T00:00:00Z",
      },
      spec: { nodeName: "n1", listConfig: { vgs: { include: ["pool0"] } } },
      status: { anything: true },
    },
    [],
  ],
  [
    "a typo in the spec is named with its path",
    { kind: "NodeLocalStorage", spec: { listconfig: {} } },
    [`spec.listconfig: unknown field (known: ${SPEC_FIELDS})`],
  ],
  [
    "a misspelt spec",
    { kind: "NodeLocalStorage", sepc: {} },
    ["sepc: unknown field (known: apiVersion, kind, metadata, spec, status)"],
  ],
  [
    "annotations that are not strings",
    { metadata: { annotations: { a: 1 } } },
    ["metadata.annotations: expected a map of strings"],
  ],
];
for (const [title, value, want] of objectCases) {
  test(`schemaProblems(NodeLocalStorage): ${title}`, (t) =>
    t.deepEqual(schemaProblems(NodeLocalStorageObjectSchema, value), want));
}

const initConfigCases: Array<[string, unknown, string[]]> = [
  [
    "an init config with a selector",
    {
      kind: "NodeLocalStorageInitConfig",
      metadata: { name: "open-local" },
      spec: {
        globalConfig: { listConfig: { vgs: { include: ["pool.*"] } } },
        nodesConfig: [{ selector: { matchLabels: { disk: "nvme" } }, listConfig: { vgs: { include: ["nvme"] } } }],
      },
    },
    [],
  ],
  [
    "a typo in a node config",
    { spec: { nodesConfig: [{ selectr: {} }] } },
    ["spec.nodesConfig[0].selectr: unknown field (known: selector, listConfig, resourceToBeInited, spdkConfig)"],
  ],
  [
    "label values that are not strings",
    { spec: { nodesConfig: [{ selector: { matchLabels: { zone: 1 } } }] } },
    ["spec.nodesConfig[0].selector.matchLabels: expected a map of strings"],
  ],
];
for (const [title, value, want] of initConfigCases) {
  test(`schemaProblems(NodeLocalStorageInitConfig): ${title}`, (t) =>
    t.deepEqual(schemaProblems(NodeLocalStorageInitConfigObjectSchema, value), want));
}

test("schemaProblems: `at` prefixes every path", (t) => {
  t.deepEqual(schemaProblems(NodeLocalStorageSpecSchema, { nodename: "x" }, "spec"), [
    `spec.nodename: unknown field (known: ${SPEC_FIELDS})`,
  ]);
});
