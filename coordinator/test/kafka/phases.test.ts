// The list definitions behind every phase: dedupe keeps each broker's first occurrence.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { dedupe, expandReplicas, leadersReplicas } from '../../src/kafka/index.ts';
import { naiveDedupe } from './helpers.ts';

test('dedupe keeps the first occurrence', () => {
  assert.deepEqual(dedupe([1, 2, 101, 2]), [1, 2, 101]);
  assert.deepEqual(dedupe([3, 3, 3]), [3]);
  assert.deepEqual(dedupe([]), []);
});

test('a kept broker appears once: at its source place in expand, its destination place in leaders', () => {
  assert.deepEqual(expandReplicas([1, 2, 3], [3, 101, 102]), [1, 2, 3, 101, 102]);
  assert.deepEqual(leadersReplicas([1, 2, 3], [3, 101, 102]), [3, 101, 102, 1, 2]);
  assert.deepEqual(expandReplicas([1, 2], [101, 102]), [1, 2, 101, 102]);
  assert.deepEqual(leadersReplicas([1, 2], [101, 102]), [101, 102, 1, 2]);
});

test('expand and leaders equal the naive dedupe of the concatenations', () => {
  const list = fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 6 });
  fc.assert(
    fc.property(list, list, (source, destination) => {
      assert.deepEqual(expandReplicas(source, destination), naiveDedupe([...source, ...destination]));
      assert.deepEqual(leadersReplicas(source, destination), naiveDedupe([...destination, ...source]));
      assert.deepEqual(dedupe(source), naiveDedupe(source));
    }),
    { numRuns: 200 },
  );
});
