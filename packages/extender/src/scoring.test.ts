import test from "ava";
import { preference } from "./scoring.js";

const cases: Array<[Parameters<typeof preference>, number]> = [
  [["binpack", 0, 100], 0],
  [["binpack", 50, 100], 0.5],
  [["binpack", 96, 100], 0.96],
  [["binpack", 100, 100], 1],
  [["spread", 0, 100], 1],
  [["spread", 30, 100], 0.7],
  [["spread", 100, 100], 0],
  [["spread", 150, 100], 0],
  [["binpack", 10, 0], 0],
  [["spread", 10, 0], 0],
];
for (const [args, expected] of cases) {
  test(`preference(${args.join(", ")}) = ${expected}`, (t) => t.is(preference(...args), expected));
}

test("nodes a rounded 0..10 score would tie are told apart", (t) => {
  // 31Gi and 34Gi used of 100Gi both round to 3.
  t.true(preference("binpack", 34, 100) > preference("binpack", 31, 100));
  t.true(preference("spread", 31, 100) > preference("spread", 34, 100));
});
