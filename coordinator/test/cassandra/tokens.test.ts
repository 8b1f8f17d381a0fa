// Tokens read without BigInt: the (high, low) key orders exactly like signed 64-bit integers and the
// canonical text is BigInt's own decimal form.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_TOKEN, MIN_TOKEN, parseToken, readToken } from '../../src/cassandra/index.ts';
import { sortedTokenOrder } from '../../src/cassandra/tokens.ts';

const key = (text: string): [number, number] => {
  const out = new Float64Array(2);
  assert.notEqual(readToken(text, out), undefined, text);
  return [out[0]!, out[1]!];
};
const compare = (a: [number, number], b: [number, number]) => Math.sign(a[0] - b[0] || a[1] - b[1]);

test('keys order tokens exactly as signed 64-bit integers, around every tricky boundary', () => {
  const near = (v: bigint) => [v - 1n, v, v + 1n];
  const tricky = [MIN_TOKEN, MAX_TOKEN, 0n, 1_000_000_000n, -1_000_000_000n, 2n ** 53n, -(2n ** 53n), 2n ** 32n];
  const arb = fc.oneof(
    fc.bigInt({ min: MIN_TOKEN, max: MAX_TOKEN }),
    fc.constantFrom(...tricky.flatMap(near).filter((v) => v >= MIN_TOKEN && v <= MAX_TOKEN)),
  );
  fc.assert(
    fc.property(arb, arb, (a, b) => {
      assert.equal(compare(key(a.toString()), key(b.toString())), a < b ? -1 : a > b ? 1 : 0);
    }),
    { numRuns: 500 },
  );
});

test('canonical text: BigInt decimal form, the same string when already canonical', () => {
  const scratch = new Float64Array(2);
  for (const [text, canonical] of [
    ['007', '7'],
    ['-0', '0'],
    ['+5', '5'],
    ['-0012', '-12'],
    ['0', '0'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['9223372036854775807', '9223372036854775807'],
  ]) {
    assert.equal(readToken(text!, scratch), canonical);
  }
  for (const bad of [
    '',
    '-',
    '+',
    '1e5',
    ' 5',
    '0x10',
    '9223372036854775808',
    '-9223372036854775809',
    '12345678901234567890',
  ]) {
    assert.equal(readToken(bad, scratch), undefined, bad);
    assert.equal(parseToken(bad), undefined, bad);
  }
  assert.equal(parseToken('-9223372036854775808'), MIN_TOKEN);
});

test('sortedTokenOrder sorts like BigInt comparison, stably for equal keys', () => {
  const arb = fc.array(
    fc.oneof(fc.bigInt({ min: MIN_TOKEN, max: MAX_TOKEN }), fc.bigInt({ min: -3_000_000_000n, max: 3_000_000_000n })),
    { maxLength: 300 },
  );
  fc.assert(
    fc.property(arb, (values) => {
      const high = new Float64Array(values.length);
      const low = new Float64Array(values.length);
      values.forEach((v, i) => {
        [high[i], low[i]] = key(v.toString());
      });
      const order = Array.from(sortedTokenOrder(high, low));
      const expected = values
        .map((_, i) => i)
        .sort((a, b) => (values[a]! < values[b]! ? -1 : values[a]! > values[b]! ? 1 : a - b));
      assert.deepEqual(order, expected);
    }),
    { numRuns: 100 },
  );
});
