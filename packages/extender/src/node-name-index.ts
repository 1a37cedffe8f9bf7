/**
 * The store's node names, found by their bytes. kube-scheduler sends its node list in another order pod
 * after pod, so a request's names cannot be matched to a cached list; cutting each out of the body as
 * a new string, and then hashing that string again to find the node's record, was two thirds of a
 * filter for a pod with claims at 5,000 nodes. This finds the name from the bytes (FNV-1a over them,
 * an open-addressing table, a byte comparison) and hands back the store's own string, whose hash V8
 * has already computed and which is the very key of the record's map entry.
 */
export class NodeNameIndex {
  /** Slot → index into `names` plus one; 0 is an empty slot. At most half full. */
  private readonly table: Int32Array;
  private readonly mask: number;
  /** Every name's UTF-8 bytes, back to back; name i is `encoded[offsets[i], offsets[i + 1])`. */
  private readonly encoded: Buffer;
  private readonly offsets: Int32Array;

  constructor(readonly names: readonly string[]) {
    const parts = names.map((n) => Buffer.from(n, "utf8"));
    this.encoded = Buffer.concat(parts);
    this.offsets = new Int32Array(names.length + 1);
    for (let i = 0; i < parts.length; i++) this.offsets[i + 1] = this.offsets[i]! + parts[i]!.length;
    let size = 16;
    while (size < names.length * 2) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < names.length; i++) {
      const slot = this.slotOf(this.encoded, this.offsets[i]!, this.offsets[i + 1]!);
      // Taken only by a repeated name: the first one stands.
      if (this.table[slot] === 0) this.table[slot] = i + 1;
    }
  }

  /** The name whose UTF-8 bytes are `bytes[from, to)`, as the store holds it; undefined for another. */
  find(bytes: Uint8Array, from: number, to: number): string | undefined {
    const entry = this.table[this.slotOf(bytes, from, to)]!;
    return entry === 0 ? undefined : this.names[entry - 1];
  }

  /** The slot holding the name whose bytes are `bytes[from, to)`, or the empty slot where it would go. */
  private slotOf(bytes: Uint8Array, from: number, to: number): number {
    const length = to - from;
    for (let slot = fnv1a(bytes, from, to) & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.table[slot]!;
      if (entry === 0) return slot;
      const start = this.offsets[entry - 1]!;
      if (this.offsets[entry]! - start === length && sameBytes(this.encoded, start, bytes, from, length)) return slot;
    }
  }
}

function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, aFrom: number, b: Uint8Array, bFrom: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (a[aFrom + k] !== b[bFrom + k]) return false;
  return true;
}
