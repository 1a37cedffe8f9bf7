import test from "ava";
import { ageText } from "./age.js";

const cases: Array<[number, string]> = [
  [0, "0s"],
  [-3, "0s"],
  [5.4, "5s"],
  [119, "119s"],
  [120, "2m"],
  [200, "3m20s"],
  [600, "10m"],
  [179 * 60 + 59, "179m"],
  [3 * 3600, "3h"],
  [5 * 3600 + 3 * 60, "5h3m"],
  [30 * 3600, "30h"],
  [3 * 86400 + 4 * 3600, "3d4h"],
  [2 * 86400, "2d"],
  [12 * 86400 + 5 * 3600, "12d"],
];
for (const [seconds, want] of cases) test(`ageText(${seconds}) = ${want}`, (t) => t.is(ageText(seconds), want));
