#!/usr/bin/env node
import { ApiReader } from "./cluster/api-reader.js";
import { complete, completionText, type NameKind } from "./completion/complete.js";
import { connect, contextNames, type ConnectionFlags } from "./kubeconfig/load.js";
import { buildProgram } from "./program.js";

/** Completion must not hang the shell: names the cluster does not give within this time are left out. */
const LOOKUP_TIMEOUT_MS = 3_000;

// kubectl (≥ 1.26) runs `kubectl_complete-nls WORD…` for `kubectl nls WORD… <TAB>`.
const program = buildProgram({
  out: () => undefined,
  err: () => undefined,
  connect: () => {
    throw new Error("completion runs no command");
  },
  readFile: () => "",
  now: () => Date.now(),
});

async function lookup(kind: NameKind, flags: Record<string, string>): Promise<string[]> {
  const connection: ConnectionFlags = {
    kubeconfig: flags["--kubeconfig"],
    context: flags["--context"],
    namespace: flags["--namespace"],
  };
  if (kind === "context") return contextNames(connection);
  const c = connect(connection);
  const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS).unref());
  return Promise.race([new ApiReader(c.kubeConfig).names(kind, c.namespace), timeout]);
}

// A kept-alive connection must not keep the shell waiting once the answer is out.
process.stdout.write(completionText(await complete(program, process.argv.slice(2), lookup)), () => process.exit(0));
