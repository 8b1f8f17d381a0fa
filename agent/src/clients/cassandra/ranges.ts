// Murmur3 token ranges as Drover and Cassandra write them: `(start, end]` with decimal string tokens,
// `start >= end` wrapping past the maximum; and the blobs of system.available_ranges_v2 (Cassandra's
// legacy range serialization, whose last 20 bytes are [int32 8][int64 left][int32 8][int64 right]).
import type { CassandraRange } from '@drover/shared';

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;

/** The canonical text of a range, for exact comparisons: `(start,end]`. */
export function rangeText([start, end]: readonly [string, string]): string {
  return `(${BigInt(start)},${BigInt(end)}]`;
}

/** Decodes one range blob of system.available_ranges_v2 (Murmur3Partitioner). */
export function decodeRangeBlob(blob: Buffer): CassandraRange {
  const n = blob.length;
  if (n < 20) throw new Error(`a range blob of ${n} bytes, expected at least 20`);
  return [blob.readBigInt64BE(n - 20).toString(), blob.readBigInt64BE(n - 8).toString()];
}

/** A range as non-wrapping linear pieces `(lo, hi]` (a wrapping range is two pieces; a full ring one). */
function pieces([start, end]: readonly [string, string]): Array<[bigint, bigint]> {
  const s = BigInt(start);
  const e = BigInt(end);
  if (s < e) return [[s, e]];
  if (s === e) return [[MIN, MAX]];
  const out: Array<[bigint, bigint]> = [];
  if (s < MAX) out.push([s, MAX]);
  if (e > MIN) out.push([MIN, e]);
  return out;
}

/** Whether `inner` lies entirely inside one of `outer` (ranges the node owns, say). */
export function coveredBy(inner: readonly [string, string], outer: ReadonlyArray<readonly [string, string]>): boolean {
  const outerPieces = outer.flatMap(pieces);
  return pieces(inner).every(([lo, hi]) => {
    // Walk the union of outer pieces from lo upward.
    let reached = lo;
    for (;;) {
      const next = outerPieces
        .filter(([a, b]) => a <= reached && b > reached)
        .sort((x, y) => (y[1] > x[1] ? 1 : -1))[0];
      if (!next) return false;
      reached = next[1];
      if (reached >= hi) return true;
    }
  });
}

/** The `-ts` argument of nodetool rebuild: `(s1,e1],(s2,e2]`. */
export function tokenRangesArgument(ranges: ReadonlyArray<readonly [string, string]>): string {
  return ranges.map(rangeText).join(',');
}
