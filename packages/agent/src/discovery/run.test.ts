import test from "ava";
import { describeFailure, execaRunner, formatCommand } from "./run.js";

// These run harmless real processes (sh, env): the runner's contract is about process handling.

test("execaRunner: LC_ALL=C and LVM_SUPPRESS_FD_WARNINGS=1 reach the command; stdin input is passed", async (t) => {
  const r = await execaRunner().run("sh", ["-c", 'echo "$LC_ALL $LVM_SUPPRESS_FD_WARNINGS"; cat'], { input: "in" });
  t.deepEqual(r, { stdout: "C 1\nin", stderr: "", exitCode: 0 });
});

test("execaRunner: a non-zero exit is a result, not an exception", async (t) => {
  const r = await execaRunner().run("sh", ["-c", "echo out; echo err >&2; exit 5"]);
  t.deepEqual(r, { stdout: "out\n", stderr: "err\n", exitCode: 5 });
});

test("execaRunner: a missing binary is exit -1 with the cause", async (t) => {
  const r = await execaRunner().run("nls-no-such-tool", ["x"]);
  t.is(r.exitCode, -1);
  t.regex(r.stderr, /ENOENT/);
});

test("execaRunner: a command over its timeout is killed and reported", async (t) => {
  const r = await execaRunner({ timeoutMs: 60_000 }).run("sleep", ["30"], { timeoutMs: 100 });
  t.is(r.exitCode, -1);
  t.regex(r.stderr, /sleep: timed out after 100 ms/);
});

test("execaRunner: the optional prefix wraps every command", async (t) => {
  const r = await execaRunner({ prefix: ["env", "NLS_PREFIXED=yes"] }).run("sh", ["-c", "echo $NLS_PREFIXED"]);
  t.is(r.stdout, "yes\n");
});

test("formatCommand and describeFailure", (t) => {
  t.is(
    formatCommand("lvm", ["fullreport", "-S", "pvseg_start<0", "it's"]),
    `lvm fullreport -S 'pvseg_start<0' 'it'\\''s'`,
  );
  t.is(
    describeFailure("pvcreate", { stdout: "", stderr: "  a\n\n  b\n", exitCode: 5 }),
    "pvcreate failed (exit 5): a; b",
  );
  t.is(describeFailure("lsblk", { stdout: "", stderr: "", exitCode: 1 }), "lsblk failed (exit 1)");
});
