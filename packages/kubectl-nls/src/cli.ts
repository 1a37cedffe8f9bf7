#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { ApiReader } from "./cluster/api-reader.js";
import { connect } from "./kubeconfig/load.js";
import { run } from "./program.js";

// `kubectl nls …` runs this as `kubectl-nls …`.
process.exitCode = await run(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  connect: (flags) => {
    const c = connect(flags);
    return { reader: new ApiReader(c.kubeConfig), namespace: c.namespace };
  },
  readFile: (path) => readFileSync(path, "utf8"),
  now: () => Date.now(),
});
