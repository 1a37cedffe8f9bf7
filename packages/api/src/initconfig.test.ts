import test from "ava";
import { nodeSpecFromInitConfig, type NodeLocalStorageInitConfigSpec } from "./initconfig.js";

const labels = { "kubernetes.io/hostname": "n1", disk: "nvme", zone: "a" };

const seed: NodeLocalStorageInitConfigSpec = {
  globalConfig: {
    listConfig: {
      vgs: { include: ["open-local-pool-[0-9]+"] },
      devices: { include: ["/dev/vd[a-d]+"], exclude: ["/dev/vda", "/dev/vdb"] },
    },
    resourceToBeInited: { vgs: [{ name: "open-local-pool-0", devices: ["/dev/vdb3"] }] },
  },
  nodesConfig: [
    { selector: { matchLabels: { disk: "nvme" } }, listConfig: { vgs: { include: ["nvme-pool"] } } },
    { selector: { matchLabels: { zone: "a" } }, listConfig: { vgs: { include: ["zone-a"] } } },
    { selector: { matchLabels: { zone: "z" } }, listConfig: { vgs: { include: ["never"] } } },
  ],
};

test("init config: global config when no node config matches", (t) => {
  const spec = nodeSpecFromInitConfig(seed, "n2", { zone: "q" });
  t.deepEqual(spec, {
    nodeName: "n2",
    listConfig: seed.globalConfig!.listConfig,
    resourceToBeInited: seed.globalConfig!.resourceToBeInited,
  });
});

test("init config: the last matching nodesConfig replaces the global config wholesale", (t) => {
  const spec = nodeSpecFromInitConfig(seed, "n1", labels);
  t.deepEqual(spec, { nodeName: "n1", listConfig: { vgs: { include: ["zone-a"] } } });
});

test("init config: the result is a copy, not an alias of the template", (t) => {
  const spec = nodeSpecFromInitConfig(seed, "n2", {});
  spec.listConfig!.vgs!.include!.push("x");
  t.deepEqual(seed.globalConfig!.listConfig!.vgs!.include, ["open-local-pool-[0-9]+"]);
});

test("init config: missing spec gives an empty spec with the node name", (t) => {
  t.deepEqual(nodeSpecFromInitConfig(undefined, "n9", {}), { nodeName: "n9" });
});
