// Range tuples and nodetool `-ts` texts for every ring range, built once per plan and shared by
// every rebuild and keyspace that lists them; and the fast fill of many rebuilds' `-ts` at once.

import { Buffer } from 'node:buffer';
import { type Ring, rangeAt } from './ring.ts';
import type { TokenRange } from './types.ts';

/**
 * Range tuples and `-ts` texts per token position, built once per plan (every range has destination
 * replicas) and shared by every rebuild and keyspace that lists them.
 *
 * A rebuild's `-ts` argument is its ranges' texts joined by commas, about 44 bytes per range, and
 * building those strings was most of the planner's time: concatenation or Array.join cost ~0.4 µs
 * per range, and copying texts in plan order misses the cache on every range. So every
 * `,(start,end]` sits once in a latin-1 byte arena in ring order, the texts of all of a keyspace's
 * rebuilds are laid out in one buffer and filled in ring order (sequential reads of the arena), the
 * buffer becomes one string and each rebuild's `-ts` is a slice of it (no per-rebuild copy).
 */
export class RangeTexts {
  readonly #tuples: TokenRange[] = [];
  readonly #arena: Buffer;
  /** Byte offset of position i's `,(start,end]` in the arena; offsets[size] = arena length. */
  readonly #offsets: Int32Array;
  constructor(ring: Ring) {
    const { size, tokens } = ring;
    this.#offsets = new Int32Array(size + 1);
    for (let position = 0; position < size; position++) {
      const range = rangeAt(ring, position);
      this.#tuples.push(range);
      // ",(" + start + "," + end + "]"
      this.#offsets[position + 1] = this.#offsets[position]! + range[0].length + range[1].length + 4;
    }
    const arena = Buffer.allocUnsafe(this.#offsets[size]!);
    let at = 0;
    for (let position = 0; position < size; position++) {
      const start = tokens[position === 0 ? size - 1 : position - 1]!;
      const end = tokens[position]!;
      arena[at++] = 44; // ,
      arena[at++] = 40; // (
      for (let k = 0; k < start.length; k++) arena[at++] = start.charCodeAt(k);
      arena[at++] = 44; // ,
      for (let k = 0; k < end.length; k++) arena[at++] = end.charCodeAt(k);
      arena[at++] = 93; // ]
    }
    this.#arena = arena;
  }
  /** The range as a tuple; the same array appears wherever the plan lists the range (never mutate). */
  tuple(position: number): TokenRange {
    return this.#tuples[position]!;
  }
  /** Length of the range's `(start,end]` text. */
  length(position: number): number {
    return this.#offsets[position + 1]! - this.#offsets[position]! - 1;
  }
  /**
   * Writes `,(start,end]` of positions[j] at out[byteAt[j]] for every j, visiting them in ring order
   * (j = sortedIndexOf[k] for k = 0, 1, …) so that the arena is read front to back.
   */
  fill(positions: Int32Array, sortedIndexOf: Int32Array, byteAt: Int32Array, out: Buffer): void {
    const arena = this.#arena;
    const offsets = this.#offsets;
    // Eight bytes at a time (unaligned, so through DataViews) as a float64: exact, because eight
    // bytes of "-0123456789,()]" read as a double are never NaN (whose bits a copy may change).
    const from = new DataView(arena.buffer, arena.byteOffset, arena.byteLength);
    const to = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let k = 0; k < sortedIndexOf.length; k++) {
      const j = sortedIndexOf[k]!;
      const p = positions[j]!;
      let at = byteAt[j]!;
      let b = offsets[p]!;
      const stop = offsets[p + 1]!;
      for (; b + 8 <= stop; b += 8, at += 8) to.setFloat64(at, from.getFloat64(b));
      for (; b < stop; b++) out[at++] = arena[b]!;
    }
  }
}
