import type { TSchema } from "@sinclair/typebox";
import {
  GROUP,
  NLSC_KIND,
  NLSC_PLURAL,
  NLSC_SHORT_NAME,
  NLSC_SINGULAR,
  NLS_KIND,
  NLS_PLURAL,
  NLS_SHORT_NAME,
  NLS_SINGULAR,
  VERSION,
} from "../constants.js";
import { NodeLocalStorageInitConfigSpecSchema } from "../initconfig.js";
import { NodeLocalStorageSpecSchema, NodeLocalStorageStatusSchema } from "../nodelocalstorage.js";

/**
 * The CustomResourceDefinitions, built from the same TypeBox schemas as the TypeScript types, so the two
 * cannot drift. `crds/*.yaml` is generated from these (`pnpm gen:crds`) and a test checks it is current.
 */

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** JSON Schema as plain data: TypeBox's symbol-keyed metadata is dropped, keys kept in declared order. */
export function toOpenApi(schema: TSchema, opts: { lenient?: boolean } = {}): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) => {
    // `required` on status lets the API server reject objects that open-local's agent writes with
    // Go's omitempty (a `readOnly: false` simply vanishes); nls' own writers are held to it by the types.
    if (opts.lenient && key === "required") return undefined;
    if (key === "properties" && value && typeof value === "object" && Object.keys(value).length === 0) return undefined;
    return value;
  }) as Record<string, unknown>;
}

const rootSchema = (spec: TSchema, status?: TSchema) => ({
  type: "object",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    spec: toOpenApi(spec),
    ...(status ? { status: toOpenApi(status, { lenient: true }) } : {}),
  },
});

function crd(opts: {
  kind: string;
  plural: string;
  singular: string;
  shortName: string;
  schema: Record<string, unknown>;
  columns: PrinterColumn[];
  status: boolean;
}) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${opts.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: opts.kind,
        listKind: `${opts.kind}List`,
        plural: opts.plural,
        singular: opts.singular,
        shortNames: [opts.shortName],
      },
      scope: "Cluster",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          ...(opts.status ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: opts.columns,
          schema: { openAPIV3Schema: opts.schema },
        },
      ],
    },
  };
}

export const NLS_PRINTER_COLUMNS: PrinterColumn[] = [
  { name: "State", type: "string", jsonPath: ".status.nodeStorageInfo.state.type" },
  { name: "Phase", type: "string", jsonPath: ".status.nodeStorageInfo.phase" },
  { name: "VGs", type: "integer", jsonPath: ".status.summary.volumeGroups", description: "selected volume groups" },
  {
    name: "Allocatable",
    type: "string",
    jsonPath: ".status.summary.allocatable",
    description: "allocatable bytes of the selected volume groups",
  },
  {
    name: "Devices",
    type: "integer",
    jsonPath: ".status.summary.devices",
    description: "selected devices that are free",
    priority: 1,
  },
  {
    name: "Free",
    type: "string",
    jsonPath: ".status.summary.free",
    description: "allocatable minus the storage system's own LVs: what LVM can still give new volumes",
  },
  {
    name: "SchedulerUpdateStatus",
    type: "string",
    jsonPath: ".status.filteredStorageInfo.updateStatusInfo.updateStatus",
    description: "whether the agent accepted spec.listConfig (failed: a bad pattern, named in Reason)",
  },
  {
    name: "StatusChanged",
    type: "date",
    jsonPath: ".status.nodeStorageInfo.state.lastHeartbeatTime",
    description:
      "when the agent last changed this status; it writes only on change, so a quiet node shows an old time. The agent's liveness is its Lease (kubectl nls capacity)",
    priority: 1,
  },
  {
    name: "SchedulerUpdateAt",
    type: "date",
    jsonPath: ".status.filteredStorageInfo.updateStatusInfo.lastUpdateTime",
    priority: 1,
  },
  { name: "Reason", type: "string", jsonPath: ".status.filteredStorageInfo.updateStatusInfo.reason", priority: 1 },
  {
    name: "DevicesInUse",
    type: "string",
    jsonPath: ".status.summary.devicesInUse",
    description: "selected devices that are not offered, with why",
    priority: 1,
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

export function nodeLocalStorageCrd() {
  return crd({
    kind: NLS_KIND,
    plural: NLS_PLURAL,
    singular: NLS_SINGULAR,
    shortName: NLS_SHORT_NAME,
    status: true,
    columns: NLS_PRINTER_COLUMNS,
    schema: rootSchema(NodeLocalStorageSpecSchema, NodeLocalStorageStatusSchema),
  });
}

export function nodeLocalStorageInitConfigCrd() {
  return crd({
    kind: NLSC_KIND,
    plural: NLSC_PLURAL,
    singular: NLSC_SINGULAR,
    shortName: NLSC_SHORT_NAME,
    status: false,
    columns: [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }],
    schema: rootSchema(NodeLocalStorageInitConfigSpecSchema),
  });
}

/** File name in `crds/` → CRD object. */
export function allCrds(): Record<string, ReturnType<typeof crd>> {
  return {
    "csi.aliyun.com_nodelocalstorages.yaml": nodeLocalStorageCrd(),
    "csi.aliyun.com_nodelocalstorageinitconfigs.yaml": nodeLocalStorageInitConfigCrd(),
  };
}
