import test from "ava";
import { buildProgram } from "../program.js";
import { complete, completionText, DIRECTIVE, type NameKind } from "./complete.js";

const program = buildProgram({
  out: () => undefined,
  err: () => undefined,
  connect: () => {
    throw new Error("not in completion");
  },
  readFile: () => "",
  now: () => 0,
});

const names: Record<NameKind, string[]> = {
  node: ["worker-1", "worker-2", "infra-1"],
  storageclass: ["nls-lvm", "nls-fast", "gp3"],
  namespace: ["default", "shop"],
  "pending-pod": ["web-0", "web-1", "db-0"],
  context: ["prod", "dev"],
};
const asked: Array<[NameKind, Record<string, string>]> = [];
const lookup = async (kind: NameKind, flags: Record<string, string>) => {
  asked.push([kind, flags]);
  return names[kind];
};
const values = async (words: string[]) => (await complete(program, words, lookup)).candidates.map((c) => c.value);

const cases: Array<[string, string[], string[]]> = [
  ["subcommands", [""], ["capacity", "explain", "simulate"]],
  ["a subcommand by prefix", ["ex"], ["explain"]],
  ["-o values", ["capacity", "-o", ""], ["table", "wide", "json", "yaml"]],
  ["--output= values keep the flag", ["capacity", "--output=j"], ["--output=json"]],
  ["--strategy values", ["simulate", "--strategy", "s"], ["spread"]],
  ["--node: the cluster's nodes", ["capacity", "--node", "w"], ["worker-1", "worker-2"]],
  ["--class: the cluster's classes", ["simulate", "--pods", "3x1Gi", "--class", "nls-"], ["nls-lvm", "nls-fast"]],
  ["-n: namespaces", ["-n", ""], ["default", "shop"]],
  ["--context: the kubeconfig's contexts", ["--context", "p"], ["prod"]],
  ["explain's pod: pending pods", ["explain", "web"], ["web-0", "web-1"]],
  ["nothing after explain's pod", ["explain", "web-0", ""], []],
  ["a subcommand's flags and the global ones", ["capacity", "--c"], ["--class", "--context"]],
  ["global flags before the subcommand", ["--ag"], ["--agent-lease"]],
];
for (const [title, words, want] of cases) {
  test(`complete: ${title}`, async (t) => t.deepEqual(await values(words), want));
}

test("complete: connection flags typed so far reach the lookup", async (t) => {
  asked.length = 0;
  await values(["--context", "dev", "-n", "shop", "explain", ""]);
  t.deepEqual(asked, [["pending-pod", { "--context": "dev", "--namespace": "shop" }]]);
});

test("complete: file flags leave completion to the shell; others forbid files", async (t) => {
  t.is((await complete(program, ["simulate", "--from-file", ""], lookup)).directive, DIRECTIVE.default);
  t.is((await complete(program, ["simulate", "--pods", ""], lookup)).directive, DIRECTIVE.noFileComp);
  t.is((await complete(program, [""], lookup)).directive, DIRECTIVE.noFileComp);
});

test("complete: a lookup that fails completes nothing instead of failing", async (t) => {
  const r = await complete(program, ["capacity", "--node", ""], async () => {
    throw new Error("unreachable");
  });
  t.deepEqual(r, { candidates: [], directive: DIRECTIVE.noFileComp });
});

test("completionText: value<TAB>description lines, then :directive", (t) => {
  t.is(
    completionText({
      candidates: [{ value: "capacity", description: "how much\troom" }, { value: "x" }],
      directive: 4,
    }),
    "capacity\thow much room\nx\n:4\n",
  );
});
