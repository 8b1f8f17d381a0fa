// kafka.verify's judgement, on hand-made cluster states: each check can fail on its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaVerifyParams } from '@drover/shared';
import type { PartitionState } from '../../../src/clients/kafka/index.ts';
import { evaluateCluster } from '../../../src/steps/kafka/verify.ts';

const part = (
  topic: string,
  partition: number,
  replicas: number[],
  isr = replicas,
  leader = replicas[0] ?? -1,
): PartitionState => ({
  topic,
  partition,
  internal: topic.startsWith('__'),
  replicas,
  isr,
  leader,
  leaderEpoch: 0,
  offlineReplicas: [],
  error: null,
});
const params = (p: Record<string, unknown>) => KafkaVerifyParams.parse(p);

test('a healthy cluster on its destination brokers passes every check', () => {
  const state = [part('orders', 0, [101, 102, 103]), part('__consumer_offsets', 0, [102, 103, 101])];
  const verdict = evaluateCluster(
    params({
      onlyBrokers: [101, 102, 103],
      leadersPreferred: true,
      noThrottles: true,
      assignment: [{ topic: 'orders', partition: 0, replicas: [101, 102, 103] }],
    }),
    state,
    [],
    [],
  );
  assert.equal(verdict.ok, true, verdict.problems.join('; '));
  assert.equal(verdict.partitions, 2);
});

test('each failing check is counted and named', () => {
  const state = [
    part('orders', 0, [1, 101], [101]),
    part('orders', 1, [101, 102], [101, 102], 102),
    part('__consumer_offsets', 0, [102, 103], [102, 103], -1),
  ];
  const verdict = evaluateCluster(
    params({
      onlyBrokers: [101, 102, 103],
      leadersPreferred: true,
      noThrottles: true,
      assignment: [{ topic: 'orders', partition: 1, replicas: [102, 101] }],
    }),
    state,
    [{ topic: 'orders', partition: 0, replicas: [1, 101], adding: [101], removing: [] }],
    [
      {
        resource: 'broker:101',
        key: 'leader.replication.throttled.rate',
        value: '1000',
        source: 'DYNAMIC_BROKER_CONFIG',
      },
    ],
  );
  assert.equal(verdict.ok, false);
  assert.equal(verdict.underReplicated, 1);
  assert.equal(verdict.offline, 1);
  assert.equal(verdict.leadersNotPreferred, 2);
  assert.equal(verdict.replicasOutside, 1);
  assert.equal(verdict.assignmentMismatches, 1);
  assert.equal(verdict.reassignmentsInFlight, 1);
  assert.equal(verdict.throttles, 1);
  for (const text of [
    'orders/0 ISR [101] lacks',
    'orders/1 is led by 102',
    'orders/0 has replicas on [1]',
    'orders/1 is on [101,102], expected [102,101]',
    'orders/0 is being reassigned',
    'broker:101 still has leader.replication.throttled.rate=1000',
    '__consumer_offsets/0 has no leader',
  ])
    assert.ok(
      verdict.problems.some((p) => p.startsWith(text)),
      `${text} in ${verdict.problems.join(' | ')}`,
    );
});

test('checks that were not asked for do not fail the verdict', () => {
  const state = [part('orders', 0, [1, 2], [1, 2], 2)];
  const verdict = evaluateCluster(
    params({ noReassignments: false }),
    state,
    [{ topic: 'orders', partition: 0, replicas: [1, 2], adding: [], removing: [] }],
    [],
  );
  assert.equal(verdict.ok, true, verdict.problems.join('; '));
  assert.equal(verdict.leadersNotPreferred, 0, 'not counted unless asked');
});
