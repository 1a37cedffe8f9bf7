import test from "ava";
import { parseServiceRef, serviceRefText } from "./reader.js";

const good: Array<[string, ReturnType<typeof parseServiceRef>]> = [
  [
    "kube-system/nls-extender:23000",
    { ok: true, ref: { namespace: "kube-system", name: "nls-extender", port: "23000" } },
  ],
  ["nls/ext", { ok: true, ref: { namespace: "nls", name: "ext" } }],
  ["https:nls/ext:https", { ok: true, ref: { scheme: "https", namespace: "nls", name: "ext", port: "https" } }],
];
for (const [text, want] of good) {
  test(`parseServiceRef(${text})`, (t) => {
    const r = parseServiceRef(text);
    t.deepEqual(r, want);
    if (r.ok) t.is(serviceRefText(r.ref), text, "round trip");
  });
}
for (const bad of ["nls-extender", "Kube/x", "a/b:", "http:a/b", "a/b/c", ""]) {
  test(`parseServiceRef rejects ${JSON.stringify(bad)}`, (t) => t.false(parseServiceRef(bad).ok));
}
