import { execFile } from "node:child_process";
import { execFileSync } from "node:child_process";
import { promisify } from "node:util";
import anyTest, { type TestFn } from "ava";

/**
 * Real tools the deploy tests shell out to (kubectl for kustomize, promtool). Missing tools skip
 * their tests, except with NLS_REQUIRE_REAL_TOOLS=1 (CI), where the tests run and fail loudly.
 */
export const requireRealTools = process.env.NLS_REQUIRE_REAL_TOOLS === "1";

export function hasTool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** `test` when `available` (or real tools are required), else `test.skip`. */
export function testWithTool(available: boolean): TestFn {
  return available || requireRealTools ? anyTest : (anyTest.skip as unknown as TestFn);
}

export const hasKubectl = hasTool("kubectl", ["version", "--client"]);
export const hasPromtool = hasTool("promtool", ["--version"]);

const execFileAsync = promisify(execFile);

/** Runs a command; resolves with its stdout and stderr whatever its exit code. */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      timeout: opts.timeoutMs ?? 0,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === "number" ? e.code : 127, stdout: e.stdout ?? "", stderr: e.stderr ?? e.message };
  }
}
