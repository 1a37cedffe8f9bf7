import test from "ava";
import { Writable } from "node:stream";
import { createLogger, parseLogLevel } from "./log.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

test("logs are one JSON object per line, with the level's name and an ISO time", (t) => {
  const { lines, stream } = capture();
  const log = createLogger("info", stream);
  log.info({ vg: "pool0" }, "volume group created");
  log.debug("not shown at info");
  t.is(lines.length, 1);
  const entry = JSON.parse(lines[0]!);
  t.like(entry, { level: "info", name: "nls-agent", vg: "pool0", msg: "volume group created" });
  t.regex(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

const levels: { in: string; ok: boolean }[] = [
  { in: "debug", ok: true },
  { in: "silent", ok: true },
  { in: "INFO", ok: false },
  { in: "verbose", ok: false },
];
for (const c of levels) {
  test(`parseLogLevel(${JSON.stringify(c.in)})`, (t) => {
    if (c.ok) t.is(parseLogLevel(c.in) as string, c.in);
    else t.throws(() => parseLogLevel(c.in), { message: /invalid log level/ });
  });
}
