import test from "ava";
import { passEveryNode } from "./null-extender.js";

test("passEveryNode: the filter answer names exactly the request's nodes, in order, none failed", (t) => {
  const reply = passEveryNode(JSON.stringify({ Pod: { metadata: { name: "p" } }, Nodes: null, NodeNames: ["b", "a"] }));
  t.deepEqual(JSON.parse(reply!), {
    NodeNames: ["b", "a"],
    Nodes: null,
    FailedNodes: {},
    FailedAndUnresolvableNodes: {},
    Error: "",
  });
  t.deepEqual(JSON.parse(passEveryNode('{"NodeNames":[]}')!).NodeNames, []);
});

for (const [what, body] of [
  ["not JSON", "{"],
  ["null", "null"],
  ["no NodeNames (full Node objects)", '{"Nodes":{"items":[]}}'],
  ["NodeNames not a list of names", '{"NodeNames":[1]}'],
] as const) {
  test(`passEveryNode refuses ${what}`, (t) => {
    t.is(passEveryNode(body), undefined);
  });
}
