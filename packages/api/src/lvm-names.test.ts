import test from "ava";
import { RE2JS } from "re2js";
import { VG_NAME_MAX_LENGTH, VG_NAME_PATTERN, vgNameProblem } from "./lvm-names.js";

const cases: Array<[string, RegExp | undefined]> = [
  ["open-local-pool-0", undefined],
  ["pool_1.a+b", undefined],
  [".hidden", undefined],
  ["..x", undefined],
  ["...", undefined],
  [".-", undefined],
  ["x".repeat(VG_NAME_MAX_LENGTH), undefined],
  ["", /must not be empty/],
  ["x".repeat(VG_NAME_MAX_LENGTH + 1), /at most 127 characters/],
  ["--test", /must not start with '-'/],
  ["-x", /must not start with '-'/],
  [".", /must not be "\."/],
  ["..", /must not be "\.\."/],
  ["pool 0", /not " "/],
  ["pool/0", /not "\/"/],
  ["pööl", /not "ö"/],
  ["pool\n", /not "\\n"/],
];

for (const [name, problem] of cases) {
  test(`VG name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}`, (t) => {
    const got = vgNameProblem(name);
    if (problem === undefined) t.is(got, undefined);
    else t.regex(got ?? "", problem);
    // The CRD pattern (RE2, as the API server applies it) agrees with the function on every character rule.
    if (name.length <= VG_NAME_MAX_LENGTH) t.is(RE2JS.compile(VG_NAME_PATTERN).matches(name), problem === undefined);
  });
}
