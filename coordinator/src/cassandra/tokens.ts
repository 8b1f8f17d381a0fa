// Murmur3 tokens (signed 64-bit integers written in decimal) read without BigInt: a token splits
// exactly into two doubles, high = sign·⌊|v| / 10^9⌋ and low = sign·(|v| mod 10^9), and comparing
// (high, low) pairs orders tokens exactly as signed 64-bit integers (both parts carry the sign, so
// -5 = (-0, -5) < (0, 3) = 3 and -2·10^9 = (-2, 0) < (-1, -999999999)). No allocation per token
// unless its text is not canonical (leading zeros, "+", "-0").
//
// Example: "-9223372036854775808" → high -9223372036, low -854775808, canonical text unchanged.

export const MIN_TOKEN = -(2n ** 63n);
export const MAX_TOKEN = 2n ** 63n - 1n;

const LIMIT_HIGH = 9223372036;
const LIMIT_LOW_NEGATIVE = 854775808;
const LIMIT_LOW_POSITIVE = 854775807;

/**
 * Reads `text` as a token: writes its (high, low) key into `key[0]`, `key[1]` and returns its
 * canonical decimal text, or returns undefined when it is not an integer in [-2^63, 2^63-1].
 */
export function readToken(text: string, key: Float64Array): string | undefined {
  const length = text.length;
  let i = 0;
  const negative = length > 0 && text.charCodeAt(0) === 45; // "-"
  if (negative || (length > 0 && text.charCodeAt(0) === 43)) i = 1; // "+"
  if (i === length) return undefined;
  const firstDigit = i;
  while (i < length - 1 && text.charCodeAt(i) === 48) i++; // leading zeros
  const digits = length - i;
  if (digits > 19) return undefined;
  let high = 0;
  let low = 0;
  for (let j = i; j < length; j++) {
    const d = text.charCodeAt(j) - 48;
    if (d < 0 || d > 9) return undefined;
    if (length - j > 9) high = high * 10 + d;
    else low = low * 10 + d;
  }
  if (high > LIMIT_HIGH) return undefined;
  if (high === LIMIT_HIGH && low > (negative ? LIMIT_LOW_NEGATIVE : LIMIT_LOW_POSITIVE)) return undefined;
  const zero = high === 0 && low === 0;
  key[0] = negative ? -high : high;
  key[1] = negative ? -low : low;
  const canonical = i === firstDigit && (negative ? !zero : firstDigit === 0);
  if (canonical) return text;
  return (negative && !zero ? '-' : '') + text.slice(i);
}

const scratch = new Float64Array(2);

/** Parses a Murmur3 token (signed 64-bit decimal); undefined when the text is not one. */
export function parseToken(text: string): bigint | undefined {
  const canonical = readToken(text, scratch);
  return canonical === undefined ? undefined : BigInt(canonical);
}

/** Offsets that make both key parts non-negative: |high| <= 9223372036, |low| <= 999999999. */
const HIGH_OFFSET = 9223372037;
const LOW_OFFSET = 1e9;

/**
 * Indexes 0..n-1 ordered by token, given the (high, low) keys of {@link readToken}: an LSD radix
 * sort over five 16-bit digits (low: 31 bits, high: 35 bits once offset). Linear and stable, and on
 * 100k tokens several times faster than a comparator sort, whose random reads miss the cache.
 */
export function sortedTokenOrder(high: Float64Array, low: Float64Array): Int32Array {
  const n = high.length;
  const lowKey = new Uint32Array(n);
  const highLowKey = new Uint32Array(n);
  const highHighKey = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    lowKey[i] = low[i]! + LOW_OFFSET;
    const h = high[i]! + HIGH_OFFSET;
    highLowKey[i] = h % 4294967296;
    highHighKey[i] = Math.floor(h / 4294967296);
  }
  let order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let next = new Int32Array(n);
  const counts = new Int32Array(65537);
  for (const [key, shift] of [
    [lowKey, 0],
    [lowKey, 16],
    [highLowKey, 0],
    [highLowKey, 16],
    [highHighKey, 0],
  ] as const) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((key[i]! >>> shift) & 0xffff) + 1]!++;
    for (let d = 1; d <= 65536; d++) counts[d]! += counts[d - 1]!;
    for (let i = 0; i < n; i++) {
      const index = order[i]!;
      next[counts[(key[index]! >>> shift) & 0xffff]!++] = index;
    }
    [order, next] = [next, order];
  }
  return order;
}
