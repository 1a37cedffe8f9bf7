import test from "ava";
import { parseDuration } from "./duration.js";

const durations: { in: string; ms?: number; error?: RegExp }[] = [
  { in: "60s", ms: 60_000 },
  { in: "2m", ms: 120_000 },
  { in: "1m30s", ms: 90_000 },
  { in: "500ms", ms: 500 },
  { in: "250ms", ms: 250 },
  { in: "1h", ms: 3_600_000 },
  { in: "45", ms: 45_000 },
  { in: "1.5s", ms: 1_500 },
  { in: " 30s ", ms: 30_000 },
  { in: "0s", error: /must be greater than zero/ },
  { in: "0", error: /must be greater than zero/ },
  { in: "-5s", error: /invalid duration "-5s": expected/ },
  { in: "5x", error: /expected e\.g\. 30s/ },
  { in: "s", error: /expected/ },
  { in: "1m 30s", error: /expected/ },
  { in: "", error: /expected/ },
  { in: "30sec", error: /expected/ },
  { in: "10sx", error: /expected/ },
  { in: "soon", error: /invalid duration "soon"/ },
];
for (const c of durations) {
  test(`parseDuration(${JSON.stringify(c.in)})`, (t) => {
    if (c.ms === undefined) t.throws(() => parseDuration(c.in), { message: c.error });
    else t.is(parseDuration(c.in), c.ms);
  });
}
