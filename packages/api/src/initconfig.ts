import { Type, type Static } from "@sinclair/typebox";
import { objectWithSpec, StorageConfigFields, type NodeLocalStorageSpec, type ObjectMeta } from "./nodelocalstorage.js";
import { LabelSelectorSchema, matchesLabelSelector } from "./label-selector.js";

/** NodeLocalStorageInitConfig (`nlsc`): the template each node's NodeLocalStorage spec is made from. */

export const GlobalConfigSchema = Type.Object(StorageConfigFields);
export type GlobalConfig = Static<typeof GlobalConfigSchema>;

export const NodeConfigSchema = Type.Object({
  selector: Type.Optional(LabelSelectorSchema),
  ...StorageConfigFields,
});
export type NodeConfig = Static<typeof NodeConfigSchema>;

export const NodeLocalStorageInitConfigSpecSchema = Type.Object({
  globalConfig: Type.Optional(GlobalConfigSchema),
  nodesConfig: Type.Optional(Type.Array(NodeConfigSchema)),
});
export type NodeLocalStorageInitConfigSpec = Static<typeof NodeLocalStorageInitConfigSpecSchema>;
export const NodeLocalStorageInitConfigObjectSchema = objectWithSpec(NodeLocalStorageInitConfigSpecSchema);

export interface NodeLocalStorageInitConfig {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: NodeLocalStorageInitConfigSpec;
}

/**
 * The spec a node's NodeLocalStorage starts with (docs/nodelocalstorage.md): the global config, replaced wholesale by the
 * *last* `nodesConfig` entry whose selector matches the node's labels.
 */
export function nodeSpecFromInitConfig(
  spec: NodeLocalStorageInitConfigSpec | undefined,
  nodeName: string,
  nodeLabels: Record<string, string>,
): NodeLocalStorageSpec {
  let chosen: GlobalConfig = spec?.globalConfig ?? {};
  for (const nodeConfig of spec?.nodesConfig ?? []) {
    if (matchesLabelSelector(nodeConfig.selector, nodeLabels)) chosen = nodeConfig;
  }
  const out: NodeLocalStorageSpec = { nodeName };
  if (chosen.listConfig) out.listConfig = structuredClone(chosen.listConfig);
  if (chosen.resourceToBeInited) out.resourceToBeInited = structuredClone(chosen.resourceToBeInited);
  if (chosen.spdkConfig) out.spdkConfig = structuredClone(chosen.spdkConfig);
  return out;
}
