import test from "ava";
import { NodeNamesCache, passAllRaw, rawNodeNames } from "./wire-cache.js";

const names = Array.from({ length: 600 }, (_, i) => `node-${i}.example.internal`);
const body = (pod: string, list: unknown = names, extra = "") =>
  `{"Pod":{"metadata":{"name":"${pod}"}},"Nodes":null,"NodeNames":${JSON.stringify(list)}${extra}}`;

test("a repeated list is learned the second time and reused from the third", (t) => {
  const c = new NodeNamesCache();
  const a = c.parse(body("a")) as { NodeNames: string[] };
  const b = c.parse(body("b")) as { NodeNames: string[] };
  const d = c.parse(body("d")) as { Pod: unknown; NodeNames: string[] };
  t.is(c.hits, 1);
  t.deepEqual(d, JSON.parse(body("d")));
  t.is(d.NodeNames, b.NodeNames, "the same array, so downstream caches hit");
  t.not(a.NodeNames, b.NodeNames);
  t.deepEqual(JSON.parse(c.passAllReply(d.NodeNames)!.toString()), {
    NodeNames: names,
    Nodes: null,
    FailedNodes: {},
    FailedAndUnresolvableNodes: {},
    Error: "",
  });
  t.is(c.passAllReply([...names]), undefined);
});

test("a different list, or extra members after it, decode in full", (t) => {
  const c = new NodeNamesCache();
  c.parse(body("a"));
  c.parse(body("b"));
  const other = [...names.slice(1), "new-node"];
  t.deepEqual(c.parse(body("c", other)), JSON.parse(body("c", other)));
  // Same list text but followed by another member: the tail differs, so no reuse.
  const tricky = body("d", names, ',"Nodes":{"items":[]}');
  t.deepEqual(c.parse(tricky), JSON.parse(tricky));
});

test("a NodeNames key hidden in the pod is never mistaken for the top-level one", (t) => {
  const c = new NodeNamesCache();
  const nested = (pod: string) =>
    `{"Nodes":null,"NodeNames":["x"],"Pod":{"metadata":{"name":"${pod}"},"spec":{"NodeNames":${JSON.stringify(names)}}}}`;
  for (const p of ["a", "b", "c"]) t.deepEqual(c.parse(nested(p)), JSON.parse(nested(p)));
  t.is(c.hits, 0);
});

test("malformed text throws like JSON.parse", (t) => {
  const c = new NodeNamesCache();
  c.parse(body("a"));
  c.parse(body("b"));
  const broken = `{"Pod":{"metadata":{"name":"p"},"Nodes":null,"NodeNames":${JSON.stringify(names)}}`;
  t.throws(() => c.parse(broken), { instanceOf: SyntaxError });
  t.throws(() => c.parse("{nope"), { instanceOf: SyntaxError });
});

test("two lists that alternate (filter's and prioritize's) are both kept", (t) => {
  const c = new NodeNamesCache();
  const subset = names.slice(0, 500);
  for (let i = 0; i < 3; i++) {
    c.parse(body(`f${i}`));
    c.parse(body(`p${i}`, subset));
  }
  t.is(c.hits, 2);
  const f = c.parse(body("f")) as { NodeNames: string[] };
  const p = c.parse(body("p", subset)) as { NodeNames: string[] };
  t.is(c.hits, 4);
  t.deepEqual(p.NodeNames, subset);
  t.truthy(c.passAllReply(f.NodeNames));
  t.truthy(c.passAllReply(p.NodeNames));
});

test("kube-scheduler's adaptive sampling: a window moving on every pod is never learned, and decodes as JSON.parse", (t) => {
  // percentageOfNodesToScore unset: kube-scheduler looks for a share of the nodes (at 5,000 nodes,
  // 500) starting where the last pod stopped, so the list recurs only once the window has gone round:
  // here every 6th pod, past the lists kept.
  const c = new NodeNamesCache();
  const window = 100;
  for (let pod = 0; pod < 18; pod++) {
    const start = (pod * window) % names.length;
    const list = [...names.slice(start), ...names.slice(0, start)].slice(0, window);
    const text = body(`p${pod}`, list);
    t.deepEqual(c.parse(text), JSON.parse(text));
  }
  t.is(c.hits, 0);
});

test("bodies given as bytes: the tail is matched as bytes and the answer is what JSON.parse gives", (t) => {
  const c = new NodeNamesCache();
  const bytes = (text: string) => Buffer.from(text, "utf8");
  c.parse(bytes(body("a")));
  c.parse(bytes(body("b")));
  // A head with multi-byte characters: byte and character offsets differ before the key.
  const pod = "pöd-ü-日本";
  const hit = c.parse(bytes(body(pod))) as { Pod: unknown; NodeNames: string[] };
  t.is(c.hits, 1);
  t.deepEqual(hit, JSON.parse(body(pod)));
  // One byte changed inside the list (same length): no reuse, a full decode.
  const changed = body("c", [...names.slice(0, 599), "node-599.example.internaX"]);
  t.deepEqual(c.parse(bytes(changed)), JSON.parse(changed));
  t.is(c.hits, 1);
  // Strings and bytes of one list share the entry.
  c.parse(body("d"));
  t.is(c.hits, 2);
  t.throws(() => c.parse(bytes(`{"Pod":{"metadata":{"name":"p"},"Nodes":null,"NodeNames":${JSON.stringify(names)}}`)), {
    instanceOf: SyntaxError,
  });
});

/** What the routes see: the body with its list, decoded only when asked (as schedulerRequest does). */
const decoded = (c: NodeNamesCache, parsed: unknown) => {
  const raw = rawNodeNames(parsed);
  return raw ? { ...(parsed as object), NodeNames: c.decode(raw) } : parsed;
};

test("parseDeferring leaves a plain list undecoded, with its count, and decodes it to what JSON.parse gives", (t) => {
  const c = new NodeNamesCache();
  const text = body("a");
  const parsed = c.parseDeferring(Buffer.from(text)) as { Pod: unknown; NodeNames: string[] };
  const raw = rawNodeNames(parsed);
  t.truthy(raw);
  t.deepEqual(parsed.NodeNames, [], "the list stays out until asked for");
  t.deepEqual(parsed.Pod, JSON.parse(text).Pod);
  t.is(raw!.count, names.length);
  t.deepEqual(Object.keys(parsed), ["Pod", "Nodes", "NodeNames"], "nothing extra to enumerate");
  t.deepEqual(JSON.parse(Buffer.concat(passAllRaw(raw!)).toString()), {
    NodeNames: names,
    Nodes: null,
    FailedNodes: {},
    FailedAndUnresolvableNodes: {},
    Error: "",
  });
  t.deepEqual(c.decode(raw!), names);
});

test("parseDeferring decodes in full whatever is not a plain list closing the body", (t) => {
  const c = new NodeNamesCache();
  const cases = [
    body("escaped", [...names, 'a\\"b']),
    body("unicode", [...names, "nœud"]),
    body("numbers", [...names.slice(1), 7]),
    body("more after", names, ',"Nodes":{"items":[]}'),
    `{"Nodes":null,"NodeNames":["x"],"Pod":{"metadata":{"name":"p"},"spec":{"NodeNames":${JSON.stringify(names)}}}}`,
    body("short", names.slice(0, 3)),
  ];
  for (const text of cases) {
    const parsed = c.parseDeferring(Buffer.from(text));
    t.is(rawNodeNames(parsed), undefined, text.slice(0, 40));
    t.deepEqual(parsed, JSON.parse(text));
  }
  const broken = `{"Pod":{"metadata":{"name":"p"},"Nodes":null,"NodeNames":${JSON.stringify(names)}}`;
  t.throws(() => c.parseDeferring(Buffer.from(broken)), { instanceOf: SyntaxError });
});

test("parseDeferring: duplicate top-level NodeNames keys keep the last, as JSON.parse does", (t) => {
  const c = new NodeNamesCache();
  const text = `{"NodeNames":["first"],"Pod":{"metadata":{"name":"p"}},"Nodes":null,"NodeNames":${JSON.stringify(names)}}`;
  t.deepEqual(decoded(c, c.parseDeferring(Buffer.from(text))), JSON.parse(text));
});

test("parseDeferring: a list decoded twice is learned, and then comes whole from the cache", (t) => {
  const c = new NodeNamesCache();
  for (const pod of ["a", "b"]) {
    const parsed = c.parseDeferring(Buffer.from(body(pod)));
    t.deepEqual(decoded(c, parsed), JSON.parse(body(pod)));
  }
  const third = c.parseDeferring(Buffer.from(body("c"))) as { NodeNames: string[] };
  t.is(rawNodeNames(third), undefined);
  t.is(c.hits, 1);
  t.deepEqual(third, JSON.parse(body("c")));
  // Lists only passed through (never decoded) are never learned: nothing needed them.
  const d = new NodeNamesCache();
  for (const pod of ["a", "b", "c"]) t.truthy(rawNodeNames(d.parseDeferring(Buffer.from(body(pod)))));
  t.is(d.hits, 0);
});

test("parseDeferring answers as JSON.parse for lists in ever-changing orders and spacing", (t) => {
  const c = new NodeNamesCache();
  for (let i = 0; i < 40; i++) {
    const list = [...names.slice(i * 13), ...names.slice(0, i * 13)];
    const spaced = i % 3 === 0 ? JSON.stringify(list, null, 1) : JSON.stringify(list);
    const text = `{"Pod":{"metadata":{"name":"p${i}"}},"Nodes":null,"NodeNames":${spaced}${i % 2 ? "}" : " }\n"}`;
    t.deepEqual(decoded(c, c.parseDeferring(Buffer.from(text))), JSON.parse(text), `list ${i}`);
  }
});
