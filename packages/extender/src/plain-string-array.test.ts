import test from "ava";
import { NodeNameIndex } from "./node-name-index.js";
import { plainStringArray, plainStrings } from "./plain-string-array.js";

const at = (text: string, from = 0) => plainStringArray(Buffer.from(text, "utf8"), from);

test("an array of plain strings closing the object: where it ends and how many", (t) => {
  const cases: Array<[string, { end: number; count: number } | undefined]> = [
    ['["a","b"]}', { end: 9, count: 2 }],
    ['["node-1"]}', { end: 10, count: 1 }],
    ["[]}", { end: 2, count: 0 }],
    [' [ "a" , "b" ] } \n', { end: 14, count: 2 }],
    ['["a"]\r\n\t}', { end: 5, count: 1 }],
    ['[""]}', { end: 4, count: 1 }],
    // Anything that is not such an array, or is followed by more, is left to a full decode.
    ['["a","b"]', undefined],
    ['["a","b"]},', undefined],
    ['["a","b"]}}', undefined],
    ['["a",]}', undefined],
    ['[,"a"]}', undefined],
    ['["a" "b"]}', undefined],
    ['["a"}', undefined],
    ['["a]}', undefined],
    ['["a\\"b"]}', undefined],
    ['["a\\u0062"]}', undefined],
    ['["é"]}', undefined],
    ['["a\tb"]}', undefined],
    ["[1]}", undefined],
    ["[null]}", undefined],
    ['[["a"]]}', undefined],
    ['{"a":1}}', undefined],
    ["", undefined],
    ["[", undefined],
    ['["a', undefined],
  ];
  for (const [text, expected] of cases) t.deepEqual(at(text), expected, text);
});

test("it starts where it is told, and what it accepts decodes as JSON.parse says", (t) => {
  const body = '{"Pod":{"x":"[1]}"},"NodeNames":["n-1", "n-2","n-3"]}';
  const from = body.lastIndexOf('"NodeNames":') + '"NodeNames":'.length;
  const found = at(body, from);
  t.deepEqual(found, { end: body.length - 1, count: 3 });
  t.deepEqual(JSON.parse(body.slice(from, found!.end)), ["n-1", "n-2", "n-3"]);
  t.deepEqual((JSON.parse(body) as { NodeNames: string[] }).NodeNames, ["n-1", "n-2", "n-3"]);
});

test("the strings of a plain array, cut out of the bytes, are what JSON.parse gives", (t) => {
  const cases = [
    '["a","b"]}',
    "[]}",
    ' [ "node-1" ,\n "x.y-z" ] } ',
    '[""]}',
    '["",""]}',
    // Commas, brackets and braces inside a string are its text.
    '["a,b", "[c]", "{d}", "~ !#$%&()*+-./:;<=>?@^_`|"]}',
  ];
  for (const text of cases) {
    const bytes = Buffer.from(`{"NodeNames":${text}`);
    const from = '{"NodeNames":'.length;
    const found = plainStringArray(bytes, from);
    t.truthy(found, text);
    t.deepEqual(plainStrings(bytes, from, found!.end), JSON.parse(bytes.toString("latin1", from, found!.end)), text);
  }
});

test("strings an index knows come from the index; the rest are cut out as before", (t) => {
  const index = new NodeNameIndex(["node-1", "node-2"]);
  const body = Buffer.from('["node-2","node-3","node-1","node-2"]}', "utf8");
  const end = plainStringArray(body, 0)!.end;
  const names = plainStrings(body, 0, end, index);
  t.deepEqual(names, plainStrings(body, 0, end));
  t.deepEqual(names, ["node-2", "node-3", "node-1", "node-2"]);
  const marked = new NodeNameIndex(["node-1", "node-2"]);
  (marked.names as string[])[1] = "from the index";
  t.deepEqual(plainStrings(body, 0, end, marked), ["from the index", "node-3", "node-1", "from the index"]);
});
