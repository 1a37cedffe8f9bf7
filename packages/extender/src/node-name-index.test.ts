import test from "ava";
import { NodeNameIndex } from "./node-name-index.js";

/** `name` quoted inside other bytes, as a request carries it: where its bytes start and end. */
function embedded(name: string): { bytes: Buffer; from: number; to: number } {
  const bytes = Buffer.from(`{"NodeNames":["x","${name}","y"]}`, "utf8");
  const from = bytes.indexOf(`"${name}"`, bytes.indexOf('","') + 1) + 1;
  return { bytes, from, to: from + Buffer.byteLength(name) };
}

test("a name is found from its bytes, UTF-8 or ASCII, empty or not", (t) => {
  const names = ["node-1", "node-10", "node-2", "a", "", "nœud-ü"];
  const index = new NodeNameIndex(names);
  for (const name of names) {
    const { bytes, from, to } = embedded(name);
    const found = index.find(bytes, from, to);
    t.is(found, name, JSON.stringify(name));
  }
});

test("bytes of no name in the index find nothing: other names, prefixes, extensions, other cases", (t) => {
  const index = new NodeNameIndex(["node-1", "node-10", "worker"]);
  for (const other of ["node-", "node-100", "node-11", "Node-1", "work", "workers", "", "node-1 "]) {
    const { bytes, from, to } = embedded(other);
    t.is(index.find(bytes, from, to), undefined, JSON.stringify(other));
  }
  t.is(new NodeNameIndex([]).find(Buffer.from("node-1"), 0, 6), undefined);
});

test("what is found is the index's own entry, not a string cut from the bytes", (t) => {
  const names = ["n1", "n2"];
  const index = new NodeNameIndex(names);
  // Strings have no identity a test can see; an entry changed behind the index's back shows where the
  // answer comes from (the store never does this: a new node list makes a new index).
  (names as string[])[0] = "the index's own";
  t.is(index.find(Buffer.from("n1"), 0, 2), "the index's own");
});

test("5,000 names, every one found (collisions probe on)", (t) => {
  const names = Array.from({ length: 5000 }, (_, i) => `node-${i}`);
  const index = new NodeNameIndex(names);
  const list = Buffer.from(JSON.stringify([...names].reverse()), "utf8");
  let at = 0;
  let found = 0;
  for (const name of [...names].reverse()) {
    const from = list.indexOf('"', at) + 1;
    const to = list.indexOf('"', from);
    at = to + 1;
    if (index.find(list, from, to) === name) found++;
  }
  t.is(found, names.length);
  t.is(index.find(Buffer.from("node-5000"), 0, 9), undefined);
});

test("a name listed twice is found once, as its first entry", (t) => {
  const index = new NodeNameIndex(["n1", "n2", "n1"]);
  t.is(index.find(Buffer.from("n1"), 0, 2), "n1");
  t.is(index.find(Buffer.from("n2"), 0, 2), "n2");
});
