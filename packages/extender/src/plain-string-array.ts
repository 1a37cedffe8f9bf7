import type { NodeNameIndex } from "./node-name-index.js";

/** JSON's whitespace: space, tab, line feed, carriage return. */
const isWhitespace = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function skipWhitespace(bytes: Uint8Array, i: number): number {
  while (isWhitespace(bytes[i])) i++;
  return i;
}

/**
 * Whether `bytes` from `from` on are a JSON array of plain strings — printable ASCII, no escapes —
 * followed only by the closing `}` of the object and whitespace, as kube-scheduler ends ExtenderArgs
 * with NodeNames. Returns where the array ends (the index after its `]`) and how many strings it
 * holds, or undefined for anything else (which is then decoded in full). Such bytes decode to the same
 * strings in any JSON decoder, so they can be sent back as they came without being decoded.
 */
export function plainStringArray(bytes: Uint8Array, from: number): { end: number; count: number } | undefined {
  let i = skipWhitespace(bytes, from);
  if (bytes[i] !== 0x5b) return undefined;
  i = skipWhitespace(bytes, i + 1);
  let count = 0;
  if (bytes[i] === 0x5d) i++;
  else {
    for (;;) {
      if (bytes[i] !== 0x22) return undefined;
      i++;
      for (let c = bytes[i]; c !== 0x22; c = bytes[++i]) {
        if (c === undefined || c < 0x20 || c > 0x7e || c === 0x5c) return undefined;
      }
      i = skipWhitespace(bytes, i + 1);
      count++;
      if (bytes[i] === 0x2c) i = skipWhitespace(bytes, i + 1);
      else if (bytes[i] === 0x5d) {
        i++;
        break;
      } else return undefined;
    }
  }
  const end = i;
  i = skipWhitespace(bytes, i);
  if (bytes[i] !== 0x7d || skipWhitespace(bytes, i + 1) !== bytes.length) return undefined;
  return { end, count };
}

/**
 * The strings of a plain string array (`plainStringArray` said so for `bytes[from, end)`), cut out of
 * the bytes: each is printable ASCII without escapes, so its bytes between the quotes are its text.
 * Faster than JSON.parse, which looks each short string up in V8's string table. A string `known`
 * holds is its own, equal string rather than a new one.
 */
export function plainStrings(bytes: Buffer, from: number, end: number, known?: NodeNameIndex): string[] {
  const out: string[] = [];
  // A loop over the bytes rather than `indexOf`: each call into it costs more than a short name's scan.
  let i = from;
  for (;;) {
    while (i < end && bytes[i] !== 0x22) i++;
    if (i >= end) return out;
    let close = i + 1;
    while (close < end && bytes[close] !== 0x22) close++;
    out.push(known?.find(bytes, i + 1, close) ?? bytes.toString("latin1", i + 1, close));
    i = close + 1;
  }
}
