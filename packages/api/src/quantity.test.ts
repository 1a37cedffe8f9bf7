import test from "ava";
import {
  formatBytesHuman,
  formatQuantity,
  parseBytes,
  parseQuantity,
  QuantityError,
  tryParseBytes,
} from "./quantity.js";

const GI = 1024n ** 3n;

const valid: Array<[string | number, bigint]> = [
  ["0", 0n],
  ["1", 1n],
  ["1024", 1024n],
  ["10Gi", 10n * GI],
  ["1Ki", 1024n],
  ["500M", 500_000_000n],
  ["1.5Ti", 1536n * GI],
  ["1e9", 1_000_000_000n],
  ["1E3", 1000n],
  ["2e-1", 1n], // 0.2 bytes rounds up
  ["100m", 1n], // 0.1 bytes rounds up
  ["1500m", 2n],
  ["1k", 1000n],
  ["+5Mi", 5n * 1024n * 1024n],
  ["0.5Ki", 512n],
  [".5Ki", 512n],
  ["1.Mi", 1024n * 1024n],
  ["8Ei", 8n * 2n ** 60n],
  ["9223372036854775807", 9223372036854775807n], // int64 max, exact
  ["1.000000000000000001E", 1_000_000_000_000_000_001n],
  [1073741824, GI],
  [0, 0n],
];

for (const [input, bytes] of valid) {
  test(`parseQuantity(${JSON.stringify(input)}) = ${bytes}`, (t) => {
    t.is(parseQuantity(input), bytes);
  });
}

const invalid: Array<[string | number, RegExp]> = [
  ["", /empty/],
  ["10GB", /invalid quantity "10GB"/],
  ["-1Gi", /must not be negative/],
  ["-1", /must not be negative/],
  ["Gi", /invalid quantity/],
  ["1.2.3", /invalid quantity/],
  [" 1Gi", /invalid quantity/],
  ["1 Gi", /invalid quantity/],
  ["1gi", /invalid quantity/],
  ["1e999", /too large/],
  [-5, /must not be negative/],
  [Number.NaN, /not a finite number/],
];

for (const [input, message] of invalid) {
  test(`parseQuantity(${JSON.stringify(input)}) throws ${message}`, (t) => {
    const err = t.throws(() => parseQuantity(input), { instanceOf: QuantityError });
    t.regex(err.message, message);
  });
}

test("parseBytes refuses values that a JS number cannot hold exactly", (t) => {
  t.is(parseBytes("4Pi"), 4 * 2 ** 50);
  t.throws(() => parseBytes("8Pi"), { message: /too large/ });
  t.throws(() => parseBytes("8Ei"), { message: /too large/ });
});

test("tryParseBytes returns errors as data", (t) => {
  t.deepEqual(tryParseBytes("1Ki"), { ok: true, bytes: 1024 });
  t.like(tryParseBytes("10GB"), { ok: false });
  t.deepEqual(tryParseBytes(null), { ok: false, error: "quantity must be a string or number, got null" });
  t.deepEqual(tryParseBytes({}), { ok: false, error: "quantity must be a string or number, got object" });
});

const formats: Array<[number | bigint, string]> = [
  [0, "0"],
  [1, "1"],
  [1023, "1023"],
  [1024, "1Ki"],
  [10n * GI, "10Gi"],
  [1536n * GI, "1536Gi"],
  [1000, "1k"],
  [500_000_000, "500M"],
  [1_500_000_000, "1500M"],
  [9223372036854775807n, "9223372036854775807"],
];
for (const [bytes, text] of formats) {
  test(`formatQuantity(${bytes}) = ${text} and round-trips`, (t) => {
    t.is(formatQuantity(bytes), text);
    t.is(parseQuantity(text), BigInt(bytes));
  });
}

test("formatQuantity rejects negative counts", (t) => {
  t.throws(() => formatQuantity(-1), { instanceOf: QuantityError });
});

test("formatBytesHuman is readable and truncates rather than rounds up", (t) => {
  t.is(formatBytesHuman(0), "0");
  t.is(formatBytesHuman(512), "512");
  t.is(formatBytesHuman(30 * 2 ** 30), "30Gi");
  t.is(formatBytesHuman(12.5 * 2 ** 30), "12.5Gi");
  t.is(formatBytesHuman(2 ** 30 - 1), "1023.99Mi");
  t.is(formatBytesHuman(-2048), "-2Ki");
});
