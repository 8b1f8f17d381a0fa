// First-fit batching under per-broker and total caps, compared with a naive reference that
// rescans every open batch for every item.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BrokerSlots } from '../../src/kafka/batching.ts';
import { firstFitBatches, groupByBatch } from '../../src/kafka/index.ts';

/** The definition, without pointers: the earliest of the last `open` batches where the item fits, else a new one. */
function naiveFirstFit(
  items: readonly (readonly number[])[],
  perBroker: number,
  total: number,
  open: number,
): number[] {
  const batches: { size: number; load: Map<number, number> }[] = [];
  return items.map((brokers) => {
    const from = Math.max(0, batches.length - open);
    let b = from;
    for (; b < batches.length; b++) {
      const batch = batches[b]!;
      if (batch.size < total && brokers.every((id) => (batch.load.get(id) ?? 0) < perBroker)) break;
    }
    if (b === batches.length) batches.push({ size: 0, load: new Map() });
    const batch = batches[b]!;
    batch.size++;
    for (const id of brokers) batch.load.set(id, (batch.load.get(id) ?? 0) + 1);
    return b;
  });
}

test('the worked example: cap 1 per broker', () => {
  assert.deepEqual(
    firstFitBatches(
      [
        [1, 2],
        [2, 3],
        [3, 4],
      ],
      1,
    ),
    [0, 1, 0],
  );
});

test('a total cap starts a new batch even when brokers have room', () => {
  assert.deepEqual(firstFitBatches([[1], [2], [3], [4], [5]], 10, 2), [0, 0, 1, 1, 2]);
});

test('groupByBatch keeps the items in order inside each batch', () => {
  assert.deepEqual(groupByBatch(['a', 'b', 'c', 'd'], [0, 1, 0, 1]), [
    ['a', 'c'],
    ['b', 'd'],
  ]);
});

test('equals the naive first fit, and never exceeds a cap', () => {
  const item = fc.uniqueArray(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 4 });
  fc.assert(
    fc.property(
      fc.array(item, { maxLength: 120 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 20 }),
      (items, perBroker, total, open) => {
        const got = firstFitBatches(items, perBroker, total, open);
        assert.deepEqual(got, naiveFirstFit(items, perBroker, total, open));
        for (const group of groupByBatch(items, got)) {
          assert.ok(group.length <= total && group.length > 0);
          const load = new Map<number, number>();
          for (const ids of group) for (const id of ids) load.set(id, (load.get(id) ?? 0) + 1);
          assert.ok([...load.values()].every((n) => n <= perBroker));
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('broker slots: dense in first-seen order, for small ids and for ids past the array', () => {
  const slots = new BrokerSlots();
  const ids = [101, 2_000_000_000, 1, 101, 5_000_000, 1, 2_000_000_000, 0];
  assert.deepEqual(
    ids.map((id) => slots.slotOf(id)),
    [0, 1, 2, 0, 3, 2, 1, 4],
  );
  assert.deepEqual(slots.ids, [101, 2_000_000_000, 1, 5_000_000, 0]);
  const items = [
    [1, 2],
    [2, 3],
    [3, 4],
  ];
  const huge = items.map((ids) => ids.map((id) => id * 1_000_000_007));
  assert.deepEqual(firstFitBatches(huge, 1), firstFitBatches(items, 1));
});
