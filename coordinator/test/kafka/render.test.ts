// The human summary: one row per phase with moves, elections, bytes, batches and brokers touched.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBrokerIds, formatBytes, formatRate, planMigration, renderPlan } from '../../src/kafka/index.ts';
import { loadFixture } from './helpers.ts';

test('formats sizes, rates and broker ranges', () => {
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1_830), '1.83 kB');
  assert.equal(formatBytes(2_500_000_000_000), '2.50 TB');
  assert.equal(formatRate(50_000_000), '50 MB/s');
  assert.equal(formatRate(1_048_576), '1048576 B/s');
  assert.equal(formatBrokerIds([1, 2, 3, 5, 101, 102]), '1-3,5,101-102');
});

test('per-phase summary and findings', () => {
  const text = renderPlan(planMigration(loadFixture('three-to-three.json'), { placement: { mode: 'auto' } }));
  assert.equal(
    text,
    [
      'plan: 4 partitions, placement auto, 5 moves per broker, throttle 50 MB/s, small-first',
      '',
      'phase    moves  elections  bytes           batches  brokers touched',
      'expand   4      0          1.83 kB copied  2        6 (1-3,101-103)',
      'leaders  4      4          -               1        6 (1-3,101-103)',
      'shrink   4      0          1.83 kB freed   1        3 (1-3)',
      'cleanup  0      0          -               1        6 (1-3,101-103)',
      '',
      'findings: 0 errors, 0 warnings, 1 info',
      '  info    cluster: internal topics move too: __consumer_offsets',
    ].join('\n'),
  );
});
