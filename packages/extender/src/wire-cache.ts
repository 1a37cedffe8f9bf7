/**
 * kube-scheduler can send the same `NodeNames` list pod after pod (every node that passed its own
 * filters, in the order its parallel filters finished: behind a real kube-scheduler a list often comes
 * back reordered, which this cache counts as another list). At 5,000 nodes that list is ~60 KiB of the
 * ~61 KiB body, so decoding and encoding it again for every request dominates the cost of a
 * pass-through (kubernetes#72634). This cache recognises a repeated list by its text and reuses the
 * decoded array — and its encoding — instead.
 *
 * Safety: a list is only reused after it was verified once: the text after the *last* `"NodeNames":`
 * was exactly `<array>}` (plus whitespace), `<array>` decodes to the same strings as the full decode
 * of the body, and the body with `[]` substituted decodes with a top-level empty `NodeNames`. For a
 * later body whose tail is the same text, decoding the short rest with `[]` substituted and putting
 * the cached array back gives exactly what a full decode would.
 *
 * A body handed over as bytes is matched as bytes: the tail is compared with the cached list's bytes
 * where it lies, and only the short head is decoded. Equal bytes decode to equal text, and the key is
 * ASCII, so its last occurrence is at the same place in both. This spares turning ~60 KiB of bytes
 * into a string on every request.
 */

import type { NodeNameIndex } from "./node-name-index.js";
import { plainStringArray, plainStrings } from "./plain-string-array.js";

const KEY = '"NodeNames":';
const KEY_BYTES = Buffer.from(KEY);
/** Shorter tails are decoded in full: the list is too small for the cache to pay. */
const MIN_TAIL = 4096;

/** How many distinct lists are kept: filter's and prioritize's lists alternate, so at least two. */
const SLOTS = 4;

interface Entry {
  /** Verified text after the last `"NodeNames":` (the list and the closing brace). */
  tail: string;
  /** `tail` as UTF-8. */
  tailBytes: Buffer;
  names: string[];
  passAll?: Buffer;
}

/**
 * A NodeNames list `parseDeferring` left undecoded: the text after the body's last `"NodeNames":`
 * (the array, the closing brace, whitespace), where the array ends in it, and how many names it holds.
 * The array is plain strings (`plainStringArray`), so its bytes are what any decoder makes of it.
 */
export interface RawNodeNames {
  readonly tail: Buffer;
  readonly arrayEnd: number;
  readonly count: number;
}

const RAW = Symbol("undecoded NodeNames");

/** The list `parseDeferring` left undecoded in `body` (whose own NodeNames is then `[]`), if it did. */
export function rawNodeNames(body: unknown): RawNodeNames | undefined {
  return isObject(body) ? (body as { [RAW]?: RawNodeNames })[RAW] : undefined;
}

const PASS_ALL_HEAD = Buffer.from('{"NodeNames":');
const PASS_ALL_TAIL = Buffer.from(',"Nodes":null,"FailedNodes":{},"FailedAndUnresolvableNodes":{},"Error":""}');

/**
 * The filter answer letting every node of an undecoded list through, in parts to be written in turn:
 * the list's own bytes go back as the slice of the request they are, not copied into a new buffer (at
 * 5,000 nodes ~60 KiB a request, memory outside V8's heap that only its collections give back).
 */
export function passAllRaw(raw: RawNodeNames): readonly [Buffer, Buffer, Buffer] {
  return [PASS_ALL_HEAD, raw.tail.subarray(0, raw.arrayEnd), PASS_ALL_TAIL];
}

export class NodeNamesCache {
  /** Verified lists, most recently used first. */
  private entries: Entry[] = [];
  /** Recent unverified tails: a list is learned the second time it is seen. */
  private recent: string[] = [];
  /** The tails of recent undecoded lists that were then decoded: learned the second time, as `recent`. */
  private recentRaw: Buffer[] = [];
  hits = 0;

  /**
   * As `parse`, except that a body whose list is not a cached one, but is a plain string array that
   * ends the body after a verified head, is decoded without its list: NodeNames is `[]` and the list
   * stays as bytes (`rawNodeNames`) until `decode` is asked for it. A pod without local volumes never
   * needs it: behind a real kube-scheduler, whose lists come in another order pod after pod, that
   * spares decoding (and encoding) thousands of names per request.
   */
  parseDeferring(input: Buffer): unknown {
    const idx = input.lastIndexOf(KEY_BYTES);
    if (idx < 0 || input.length - idx < MIN_TAIL) return this.parse(input);
    const hit = this.cachedTail(input, idx);
    if (hit >= 0) return this.reuse(hit, input.toString("utf8", 0, idx)) ?? this.parse(input.toString("utf8"));
    const from = idx + KEY.length;
    const array = plainStringArray(input, from);
    const body = array ? parseWithEmptyNames(input.toString("utf8", 0, idx)) : undefined;
    if (!array || !body) return this.parse(input);
    const raw: RawNodeNames = { tail: input.subarray(from), arrayEnd: array.end - from, count: array.count };
    Object.defineProperty(body, RAW, { value: raw, enumerable: false });
    return body;
  }

  /**
   * The names of an undecoded list — those `known` holds as its own strings; a list decoded twice among
   * the last few is learned as `parse` learns.
   */
  decode(raw: RawNodeNames, known?: NodeNameIndex): string[] {
    const names = plainStrings(raw.tail, 0, raw.arrayEnd, known);
    if (this.recentRaw.some((t) => t.equals(raw.tail))) {
      this.recentRaw = this.recentRaw.filter((t) => !t.equals(raw.tail));
      const tailBytes = Buffer.from(raw.tail);
      this.entries = [{ tail: tailBytes.toString("latin1"), tailBytes, names }, ...this.entries].slice(0, SLOTS);
    } else this.recentRaw = [raw.tail, ...this.recentRaw].slice(0, SLOTS);
    return names;
  }

  /** `JSON.parse` of the text (or UTF-8 bytes), faster for a repeated NodeNames list. Throws what it throws. */
  parse(input: string | Buffer): unknown {
    if (typeof input !== "string") {
      const idx = input.lastIndexOf(KEY_BYTES);
      if (idx >= 0 && input.length - idx >= MIN_TAIL) {
        const hit = this.cachedTail(input, idx);
        if (hit >= 0) {
          const body = this.reuse(hit, input.toString("utf8", 0, idx));
          if (body) return body;
        }
      }
      return this.parse(input.toString("utf8"));
    }
    const text = input;
    const idx = text.lastIndexOf(KEY);
    if (idx < 0 || text.length - idx < MIN_TAIL) return JSON.parse(text);
    const tail = text.slice(idx + KEY.length);
    const hit = this.entries.findIndex((e) => e.tail === tail);
    if (hit >= 0) {
      const body = this.reuse(hit, text.slice(0, idx));
      if (body) return body;
    }
    const body: unknown = JSON.parse(text);
    if (this.recent.includes(tail)) this.learn(text, idx, tail, body);
    else this.recent = [tail, ...this.recent].slice(0, SLOTS);
    return body;
  }

  /**
   * The whole filter answer letting every node of `names` through, encoded, when `names` is a cached
   * list (the same array), else undefined: a pass-through answer is the same bytes pod after pod.
   */
  passAllReply(names: readonly string[]): Buffer | undefined {
    const entry = this.entries.find((e) => e.names === names);
    if (!entry) return undefined;
    entry.passAll ??= Buffer.concat([PASS_ALL_HEAD, Buffer.from(JSON.stringify(names)), PASS_ALL_TAIL]);
    return entry.passAll;
  }

  /** Which kept list's bytes follow the `"NodeNames":` at `idx` to the end of `input`; -1 for none. */
  private cachedTail(input: Buffer, idx: number): number {
    const from = idx + KEY.length;
    const size = input.length - from;
    return this.entries.findIndex(
      (e) => e.tailBytes.length === size && input.compare(e.tailBytes, 0, size, from) === 0,
    );
  }

  /** The body whose text before its last `"NodeNames":` is `head`, with cached list `hit` as NodeNames. */
  private reuse(hit: number, head: string): Record<string, unknown> | undefined {
    const body = parseWithEmptyNames(head);
    if (!body) return undefined;
    const entry = this.entries[hit]!;
    if (hit > 0) this.entries = [entry, ...this.entries.filter((e) => e !== entry)];
    body.NodeNames = entry.names;
    this.hits++;
    return body;
  }

  private learn(text: string, idx: number, tail: string, body: unknown): void {
    if (!isObject(body) || !Array.isArray(body.NodeNames)) return;
    const names = body.NodeNames as unknown[];
    if (!names.every((n) => typeof n === "string")) return;
    const close = tail.lastIndexOf("}");
    if (close < 0 || tail.slice(close + 1).trim() !== "") return;
    let decoded: unknown;
    try {
      decoded = JSON.parse(tail.slice(0, close));
    } catch {
      return;
    }
    if (!Array.isArray(decoded) || decoded.length !== names.length) return;
    for (let i = 0; i < names.length; i++) if (decoded[i] !== names[i]) return;
    if (!parseWithEmptyNames(text.slice(0, idx))) return;
    this.recent = this.recent.filter((t) => t !== tail);
    const entry = { tail, tailBytes: Buffer.from(tail, "utf8"), names: names as string[] };
    this.entries = [entry, ...this.entries].slice(0, SLOTS);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The body whose text before its last NodeNames value is `head`, with `[]` as that value, if that is
 * a top-level empty NodeNames.
 */
function parseWithEmptyNames(head: string): Record<string, unknown> | undefined {
  let body: unknown;
  try {
    body = JSON.parse(`${head}${KEY}[]}`);
  } catch {
    return undefined;
  }
  return isObject(body) && Array.isArray(body.NodeNames) && body.NodeNames.length === 0 ? body : undefined;
}
