import test from "ava";
import { score } from "./scoring.js";

const cases: Array<[Parameters<typeof score>, number]> = [
  [["binpack", 0, 100], 0],
  [["binpack", 50, 100], 5],
  [["binpack", 96, 100], 10],
  [["binpack", 100, 100], 10],
  [["spread", 0, 100], 10],
  [["spread", 30, 100], 7],
  [["spread", 100, 100], 0],
  [["spread", 150, 100], 0],
  [["binpack", 10, 0], 0],
  [["spread", 10, 0], 0],
];
for (const [args, expected] of cases) {
  test(`score(${args.join(", ")}) = ${expected}`, (t) => t.is(score(...args), expected));
}
