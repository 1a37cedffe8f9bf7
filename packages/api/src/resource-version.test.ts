import test from "ava";
import { isStale } from "./resource-version.js";

const obj = (uid: string, resourceVersion?: string) => ({ metadata: { uid, resourceVersion } });

test("an older version of the same object is stale; newer, equal, recreated or unreadable ones are not", (t) => {
  const rows: Array<[string, ReturnType<typeof obj>, ReturnType<typeof obj> | undefined, boolean]> = [
    ["older", obj("u", "41"), obj("u", "42"), true],
    ["older by many digits", obj("u", "9"), obj("u", "10"), true],
    ["newer", obj("u", "43"), obj("u", "42"), false],
    ["equal", obj("u", "42"), obj("u", "42"), false],
    ["nothing cached", obj("u", "1"), undefined, false],
    ["recreated (other uid)", obj("v", "1"), obj("u", "42"), false],
    ["no version", obj("u"), obj("u", "42"), false],
    ["not a number", obj("u", "abc"), obj("u", "42"), false],
    ["cached one not a number", obj("u", "11"), obj("u", "v12"), false],
    ["empty", obj("u", ""), obj("u", "12"), false],
    ["cached one without a version", obj("u", "11"), obj("u"), false],
    ["beyond 2^53", obj("u", "9007199254740993"), obj("u", "9007199254740994"), true],
    ["beyond 2^64", obj("u", "18446744073709551616"), obj("u", "18446744073709551617"), true],
  ];
  for (const [what, incoming, current, stale] of rows) t.is(isStale(incoming, current), stale, what);
});
