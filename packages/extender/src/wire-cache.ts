/**
 * kube-scheduler sends the same `NodeNames` list pod after pod (every node that passed its own
 * filters). At 5,000 nodes that list is ~60 KiB of the ~61 KiB body, so decoding and encoding it again
 * for every request dominates the cost of a pass-through (kubernetes#72634). This cache recognises a
 * repeated list by its text and reuses the decoded array — and its encoding — instead.
 *
 * Safety: a list is only reused after it was verified once: the text after the *last* `"NodeNames":`
 * was exactly `<array>}` (plus whitespace), `<array>` decodes to the same strings as the full decode
 * of the body, and the body with `[]` substituted decodes with a top-level empty `NodeNames`. For a
 * later body whose tail is the same text, decoding the short rest with `[]` substituted and putting
 * the cached array back gives exactly what a full decode would.
 */

const KEY = '"NodeNames":';

/** How many distinct lists are kept: filter's and prioritize's lists alternate, so at least two. */
const SLOTS = 4;

interface Entry {
  /** Verified text after the last `"NodeNames":` (the list and the closing brace). */
  tail: string;
  names: string[];
  json?: string;
}

export class NodeNamesCache {
  /** Verified lists, most recently used first. */
  private entries: Entry[] = [];
  /** Recent unverified tails: a list is learned the second time it is seen. */
  private recent: string[] = [];
  hits = 0;

  /** `JSON.parse(text)`, faster for a repeated NodeNames list. Throws what JSON.parse throws. */
  parse(text: string): unknown {
    const idx = text.lastIndexOf(KEY);
    if (idx < 0 || text.length - idx < 4096) return JSON.parse(text);
    const tail = text.slice(idx + KEY.length);
    const hit = this.entries.findIndex((e) => e.tail === tail);
    if (hit >= 0) {
      const body = parseWithEmptyNames(text, idx);
      if (body) {
        const entry = this.entries[hit]!;
        if (hit > 0) this.entries = [entry, ...this.entries.filter((e) => e !== entry)];
        body.NodeNames = entry.names;
        this.hits++;
        return body;
      }
    }
    const body: unknown = JSON.parse(text);
    if (this.recent.includes(tail)) this.learn(text, idx, tail, body);
    else this.recent = [tail, ...this.recent].slice(0, SLOTS);
    return body;
  }

  /** The JSON text of `names` when it is a cached list (the same array), else undefined. */
  encoded(names: readonly string[]): string | undefined {
    const entry = this.entries.find((e) => e.names === names);
    if (!entry) return undefined;
    entry.json ??= JSON.stringify(names);
    return entry.json;
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
    if (!parseWithEmptyNames(text, idx)) return;
    this.recent = this.recent.filter((t) => t !== tail);
    this.entries = [{ tail, names: names as string[] }, ...this.entries].slice(0, SLOTS);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The body with its last NodeNames value replaced by `[]`, if that is a top-level empty NodeNames. */
function parseWithEmptyNames(text: string, idx: number): Record<string, unknown> | undefined {
  let body: unknown;
  try {
    body = JSON.parse(`${text.slice(0, idx)}${KEY}[]}`);
  } catch {
    return undefined;
  }
  return isObject(body) && Array.isArray(body.NodeNames) && body.NodeNames.length === 0 ? body : undefined;
}
