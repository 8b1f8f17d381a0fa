// kafka.reassign releases a batch's throttles as its moves finish: a done partition's own entries are
// subtracted from its topic's lists, an idle broker's rates deleted; each once; only what the batch set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigOp } from '@drover/shared';
import { ThrottleRelease } from '../../../src/steps/kafka/throttle-release.ts';

const L = 'leader.replication.throttled.replicas';
const F = 'follower.replication.throttled.replicas';
const LR = 'leader.replication.throttled.rate';
const FR = 'follower.replication.throttled.rate';

// What the planner emits for one expand batch: orders-0 1→1,101; orders-1 2→2,102; logs-0 3→3,103.
const batch: ConfigOp[] = [
  { resource: 'topic:orders', op: 'SUBTRACT', key: L, value: '7:9' }, // the previous batch's: not this one's
  { resource: 'broker:9', op: 'DELETE', key: LR, value: null },
  { resource: 'topic:logs', op: 'APPEND', key: L, value: '0:3' },
  { resource: 'topic:logs', op: 'APPEND', key: F, value: '0:103' },
  { resource: 'topic:orders', op: 'APPEND', key: L, value: '0:1,1:2' },
  { resource: 'topic:orders', op: 'APPEND', key: F, value: '0:101,1:102' },
  ...[1, 2, 3, 101, 102, 103].flatMap((id): ConfigOp[] => [
    { resource: `broker:${id}`, op: 'SET', key: LR, value: '1000' },
    { resource: `broker:${id}`, op: 'SET', key: FR, value: '1000' },
  ]),
];
const deleted = (id: number): ConfigOp[] => [
  { resource: `broker:${id}`, op: 'DELETE', key: LR, value: null },
  { resource: `broker:${id}`, op: 'DELETE', key: FR, value: null },
];

test('a finished partition loses its own entries; its brokers, once idle, their rates; others keep theirs', () => {
  const release = new ThrottleRelease(batch);
  assert.equal(release.empty, false);
  // orders-1 done; orders-0 and logs-0 still moving on 1, 101, 3, 103.
  const first = release.release(['orders/1'], new Set([1, 101, 3, 103]));
  assert.deepEqual(first.partitions, ['orders/1']);
  assert.deepEqual(first.brokers, [2, 102]);
  assert.deepEqual(first.ops, [
    { resource: 'topic:orders', op: 'SUBTRACT', key: L, value: '1:2' },
    { resource: 'topic:orders', op: 'SUBTRACT', key: F, value: '1:102' },
    ...deleted(2),
    ...deleted(102),
  ]);
  // Nothing new: nothing sent again.
  assert.deepEqual(release.release(['orders/1'], new Set([1, 101, 3, 103])).ops, []);
  // Both others done in one round: one SUBTRACT per topic and key.
  const rest = release.release(['orders/1', 'orders/0', 'logs/0'], new Set());
  assert.deepEqual(rest.partitions, ['orders/0', 'logs/0']);
  assert.deepEqual(rest.ops, [
    { resource: 'topic:orders', op: 'SUBTRACT', key: L, value: '0:1' },
    { resource: 'topic:orders', op: 'SUBTRACT', key: F, value: '0:101' },
    { resource: 'topic:logs', op: 'SUBTRACT', key: L, value: '0:3' },
    { resource: 'topic:logs', op: 'SUBTRACT', key: F, value: '0:103' },
    ...deleted(1),
    ...deleted(3),
    ...deleted(101),
    ...deleted(103),
  ]);
});

test('a broker busy with a move of another batch keeps its rate; partitions the batch did not throttle send nothing', () => {
  const release = new ThrottleRelease(batch);
  const out = release.release(['orders/0', 'other/5'], new Set([1, 2, 3, 101, 102, 103]));
  assert.deepEqual(out.partitions, ['orders/0']);
  assert.deepEqual(out.brokers, []);
  assert.equal(out.ops.length, 2);
});

test('a batch without APPENDs or SETs (a rollback, a clean-up) releases nothing; `*` entries are left alone', () => {
  const none = new ThrottleRelease([{ resource: 'topic:orders', op: 'DELETE', key: L, value: null }]);
  assert.equal(none.empty, true);
  assert.deepEqual(none.release(['orders/0'], new Set()).ops, []);
  const star = new ThrottleRelease([{ resource: 'topic:orders', op: 'APPEND', key: L, value: '*' }]);
  assert.equal(star.empty, true);
});
