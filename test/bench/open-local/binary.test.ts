import test from "ava";
import { OPEN_LOCAL_SKIPPED, openLocalSource } from "./binary.js";

const cases: Array<[string, NodeJS.ProcessEnv, ReturnType<typeof openLocalSource>]> = [
  ["nothing named: skipped, saying how to name it", {}, { skipped: OPEN_LOCAL_SKIPPED }],
  ["empty values count as unset", { NLS_OPEN_LOCAL_BIN: "", NLS_OPEN_LOCAL_SRC: "" }, { skipped: OPEN_LOCAL_SKIPPED }],
  ["a checkout", { NLS_OPEN_LOCAL_SRC: "/src/open-local" }, { src: "/src/open-local" }],
  ["a binary", { NLS_OPEN_LOCAL_BIN: "/bin/open-local" }, { bin: "/bin/open-local" }],
  ["a binary wins over a checkout", { NLS_OPEN_LOCAL_BIN: "/b", NLS_OPEN_LOCAL_SRC: "/s" }, { bin: "/b" }],
];
for (const [name, env, expected] of cases)
  test(`openLocalSource: ${name}`, (t) => t.deepEqual(openLocalSource(env), expected));
