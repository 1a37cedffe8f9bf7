import test from "ava";
import { Gi } from "@nls/testkit";
import { describeBurst, MAX_BURST, parsePodBurst } from "./pod-burst.js";

/** Each pod as `name=size+size@class` in Gi. */
const shapes = (spec: string, defaultClass?: string): string[] | string => {
  const out = parsePodBurst(spec, defaultClass);
  if (!out.ok) return out.error;
  return out.pods.map(
    (p) =>
      `${p.name}=${p.volumes.map((v) => v.bytes / Gi).join("+")}@${p.volumes.map((v) => v.storageClass).join(",")}`,
  );
};

const cases: Array<[string, string | undefined, string[] | RegExp]> = [
  ["20Gi", "lvm", ["pod-1=20@lvm"]],
  ["3x20Gi", "lvm", ["pod-1=20@lvm", "pod-2=20@lvm", "pod-3=20@lvm"]],
  ["2x30Gi, 1x5Gi@fast", "lvm", ["pod-1=30@lvm", "pod-2=30@lvm", "pod-3=5@fast"]],
  ["2x10Gi+512Mi@fast", undefined, ["pod-1=10+0.5@fast,fast", "pod-2=10+0.5@fast,fast"]],
  ["20Gi", undefined, /names no StorageClass and there is no default local class: add @CLASS/],
  ["0x20Gi", "lvm", /count must be at least 1/],
  ["3x", "lvm", /"3x": size 3x: /],
  ["3xtwentygigs", "lvm", /size twentygigs/],
  ["20Gi+0", "lvm", /size must be positive/],
  ["20Gi,,5Gi", "lvm", /pod group "": expected \[COUNTx\]SIZE/],
  [`${MAX_BURST + 1}x1Gi`, "lvm", /more than 100000 pods in one burst/],
];

for (const [spec, defaultClass, expect] of cases) {
  test(`--pods ${JSON.stringify(spec)}${defaultClass ? ` (default ${defaultClass})` : ""}`, (t) => {
    const got = shapes(spec, defaultClass);
    if (expect instanceof RegExp) t.regex(got as string, expect);
    else t.deepEqual(got, expect);
  });
}

test("describeBurst writes runs of equal pods back in the same syntax", (t) => {
  const parsed = parsePodBurst("2x30Gi,20Gi@fast,20Gi@fast,1Gi+2Gi", "lvm");
  if (!parsed.ok) return t.fail(parsed.error);
  t.is(describeBurst(parsed.pods), "2x30Gi@lvm,2x20Gi@fast,1Gi+2Gi@lvm");
});
