// Audit batches stay within the audit stream's message size, whatever the records hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchesUnder } from '../../src/engine/audit.ts';

test('records are batched by count and by bytes, in order, none lost', () => {
  const records = Array.from({ length: 250 }, (_, i) => ({ i, pad: 'x'.repeat(i % 7 === 0 ? 3000 : 100) }));
  const batches = batchesUnder(records, 100, 48 * 1024);
  assert.deepEqual(batches.flat(), records);
  for (const batch of batches) {
    assert.ok(batch.length <= 100);
    assert.ok(Buffer.byteLength(JSON.stringify(batch)) <= 48 * 1024 + 1024, 'within the byte budget');
  }
  const big = batchesUnder([{ pad: 'y'.repeat(60_000) }, { a: 1 }], 100, 48 * 1024);
  assert.equal(big.length, 2, 'a record over the budget goes alone');
});
