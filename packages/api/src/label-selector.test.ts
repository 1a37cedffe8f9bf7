import test from "ava";
import { matchesLabelSelector } from "./label-selector.js";

const labels = { "kubernetes.io/hostname": "n1", disk: "nvme", zone: "a" };

const selectorCases: Array<[string, Parameters<typeof matchesLabelSelector>[0], boolean]> = [
  ["missing selector matches nothing", undefined, false],
  ["empty selector matches everything", {}, true],
  ["matchLabels hit", { matchLabels: { disk: "nvme" } }, true],
  ["matchLabels miss", { matchLabels: { disk: "hdd" } }, false],
  ["In hit", { matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }, true],
  ["In on missing label", { matchExpressions: [{ key: "rack", operator: "In", values: ["a"] }] }, false],
  ["NotIn hit", { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["b"] }] }, true],
  ["NotIn on missing label", { matchExpressions: [{ key: "rack", operator: "NotIn", values: ["a"] }] }, true],
  ["NotIn miss", { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, false],
  ["Exists", { matchExpressions: [{ key: "disk", operator: "Exists" }] }, true],
  ["DoesNotExist", { matchExpressions: [{ key: "disk", operator: "DoesNotExist" }] }, false],
  ["unknown operator matches nothing", { matchExpressions: [{ key: "disk", operator: "Gt", values: ["1"] }] }, false],
  [
    "labels and expressions must all hold",
    { matchLabels: { disk: "nvme" }, matchExpressions: [{ key: "zone", operator: "In", values: ["b"] }] },
    false,
  ],
];
for (const [name, selector, want] of selectorCases) {
  test(`label selector: ${name}`, (t) => t.is(matchesLabelSelector(selector, labels), want));
}
