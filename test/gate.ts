import anyTest, { type TestFn } from "ava";

/**
 * The test function for a suite that needs real tools. When they are missing, every test is reported
 * skipped and every hook is skipped too. ava's own `serial.skip` has no hooks, so a suite that declares
 * `test.before(...)` would crash at load time on a machine without the tools; this keeps the suite loading.
 */
export function gatedSerial<Context = unknown>(run: boolean): TestFn<Context> {
  const serial = anyTest.serial as unknown as TestFn<Context>;
  if (run) return serial;
  const skipHook = <F extends object>(hook: { skip: F }) => hook.skip;
  const skipTest = serial.skip;
  const after = Object.assign(skipHook(serial.after), { always: serial.after.always.skip, skip: serial.after.skip });
  const afterEach = Object.assign(skipHook(serial.afterEach), {
    always: serial.afterEach.always.skip,
    skip: serial.afterEach.skip,
  });
  const before = Object.assign(skipHook(serial.before), { skip: serial.before.skip });
  const beforeEach = Object.assign(skipHook(serial.beforeEach), { skip: serial.beforeEach.skip });
  const gated = Object.assign((...args: unknown[]) => (skipTest as (...a: unknown[]) => void)(...args), {
    after,
    afterEach,
    before,
    beforeEach,
    failing: Object.assign(skipTest, { only: skipTest, skip: skipTest }),
    macro: anyTest.macro,
    meta: anyTest.meta,
    only: skipTest,
    skip: skipTest,
    todo: serial.todo,
  });
  return Object.assign(gated, { serial: gated }) as unknown as TestFn<Context>;
}
