import test from "ava";
import { podClaimNames, type PodVolumes } from "./pod-claims.js";

const cases: Array<[string, PodVolumes, string[]]> = [
  ["no volumes", { metadata: { name: "p" } }, []],
  [
    "PVC volumes, each once",
    {
      metadata: { name: "p" },
      spec: {
        volumes: [
          { name: "a", persistentVolumeClaim: { claimName: "data" } },
          { name: "b", persistentVolumeClaim: { claimName: "data" } },
          { name: "c", persistentVolumeClaim: { claimName: "logs" } },
        ],
      },
    },
    ["data", "logs"],
  ],
  [
    "a generic ephemeral volume is <pod>-<volume>",
    { metadata: { name: "web-0" }, spec: { volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: {} } }] } },
    ["web-0-scratch"],
  ],
  [
    "other volume kinds name no PVC",
    { metadata: { name: "p" }, spec: { volumes: [{ name: "cfg", configMap: { name: "x" } } as never] } },
    [],
  ],
];

for (const [name, pod, want] of cases) {
  test(name, (t) => t.deepEqual(podClaimNames(pod), want));
}
