import test from "ava";
import { answeredNodes } from "./answers.js";

const cases: Array<[string, string, string, number]> = [
  ["filter, names", "/scheduler/predicates", '{"NodeNames":["a","b"],"FailedNodes":{"c":"full"}}', 2],
  ["filter, full objects", "/scheduler/predicates", '{"Nodes":{"items":[{},{},{}]},"NodeNames":null}', 3],
  ["filter, none through", "/scheduler/predicates", '{"NodeNames":[],"Error":""}', 0],
  ["filter, an error answer", "/scheduler/predicates", '{"Error":"boom"}', 0],
  ["prioritize, scores", "/scheduler/priorities", '[{"Host":"a","Score":3},{"Host":"b","Score":0}]', 2],
  ["prioritize, no scores", "/scheduler/priorities", "[]", 0],
  ["prioritize, not a list", "/scheduler/priorities", '{"Error":"boom"}', 0],
  ["not JSON", "/scheduler/predicates", "internal error", 0],
  ["null", "/scheduler/predicates", "null", 0],
];
for (const [name, path, text, expected] of cases)
  test(`answeredNodes: ${name}`, (t) => t.is(answeredNodes(path, text), expected));
