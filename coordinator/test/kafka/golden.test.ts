// Golden clusters written by hand, with the expected plans worked out by hand: 3→3 brokers with RF 3
// on 3 racks (explicit map and automatic), RF 2 over two AZs (and the --rf 2 case onto two AZs),
// uneven broker counts 3→4 and 6→3, internal topics.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidInputErrors } from '@drover/shared';
import {
  type ConfigOp,
  type MigrationPlan,
  parseBrokerMap,
  planMigration,
  THROTTLE_KEYS,
} from '../../src/kafka/index.ts';
import { loadFixture, makeCluster } from './helpers.ts';

const { leaderReplicas: LR, followerReplicas: FR, leaderRate, followerRate, alterLogDirsRate } = THROTTLE_KEYS;
const SIX = [1, 2, 3, 101, 102, 103];
const rates = (op: 'SET' | 'DELETE', brokers: number[]): ConfigOp[] =>
  brokers.flatMap((b) => [
    { resource: `broker:${b}`, op, key: leaderRate, value: op === 'SET' ? '50000000' : null },
    { resource: `broker:${b}`, op, key: followerRate, value: op === 'SET' ? '50000000' : null },
  ]);
const topicOp = (topic: string, op: ConfigOp['op'], key: string, value: string): ConfigOp => ({
  resource: `topic:${topic}`,
  op,
  key,
  value,
});
const r = (topic: string, partition: number, replicas: number[]) => ({ topic, partition, replicas });
const e = (topic: string, partition: number) => ({ topic, partition });
const phase = (plan: MigrationPlan, name: string) => plan.phases.find((p) => p.name === name)!;

describe('3→3 brokers, RF 3 on 3 racks, explicit map 1=101,2=102,3=103, 2 moves per broker', () => {
  const plan = planMigration(loadFixture('three-to-three.json'), {
    placement: { mode: 'map', map: parseBrokerMap('1=101,2=102,3=103') },
    perBrokerMoves: 2,
  });

  test('mapping keeps each replica position (internal topic included)', () => {
    assert.deepEqual(plan.mapping, {
      '__consumer_offsets/0': { source: [2, 3, 1], destination: [102, 103, 101] },
      'orders/0': { source: [1, 2, 3], destination: [101, 102, 103] },
      'orders/1': { source: [2, 3, 1], destination: [102, 103, 101] },
      'orders/2': { source: [3, 1, 2], destination: [103, 101, 102] },
    });
  });

  test('expand: small first, 2 per batch (every move touches all six brokers), then a closing batch', () => {
    const expand = phase(plan, 'expand');
    assert.deepEqual(expand.batches, [
      {
        reassignments: [r('__consumer_offsets', 0, [2, 3, 1, 102, 103, 101]), r('orders', 1, [2, 3, 1, 102, 103, 101])],
        elections: [],
        configOps: [
          topicOp('__consumer_offsets', 'APPEND', LR, '0:2,0:3,0:1'),
          topicOp('__consumer_offsets', 'APPEND', FR, '0:102,0:103,0:101'),
          topicOp('orders', 'APPEND', LR, '1:2,1:3,1:1'),
          topicOp('orders', 'APPEND', FR, '1:102,1:103,1:101'),
          ...rates('SET', SIX),
        ],
      },
      {
        reassignments: [r('orders', 2, [3, 1, 2, 103, 101, 102]), r('orders', 0, [1, 2, 3, 101, 102, 103])],
        elections: [],
        configOps: [
          topicOp('__consumer_offsets', 'SUBTRACT', LR, '0:2,0:3,0:1'),
          topicOp('__consumer_offsets', 'SUBTRACT', FR, '0:102,0:103,0:101'),
          topicOp('orders', 'SUBTRACT', LR, '1:2,1:3,1:1'),
          topicOp('orders', 'SUBTRACT', FR, '1:102,1:103,1:101'),
          topicOp('orders', 'APPEND', LR, '2:3,2:1,2:2,0:1,0:2,0:3'),
          topicOp('orders', 'APPEND', FR, '2:103,2:101,2:102,0:101,0:102,0:103'),
          ...rates('SET', SIX),
        ],
      },
      {
        reassignments: [],
        elections: [],
        configOps: [
          topicOp('orders', 'SUBTRACT', LR, '2:3,2:1,2:2,0:1,0:2,0:3'),
          topicOp('orders', 'SUBTRACT', FR, '2:103,2:101,2:102,0:101,0:102,0:103'),
          ...rates('DELETE', SIX),
        ],
      },
    ]);
    assert.deepEqual(expand.rollback, {
      reassignments: [
        r('__consumer_offsets', 0, [2, 3, 1]),
        r('orders', 0, [1, 2, 3]),
        r('orders', 1, [2, 3, 1]),
        r('orders', 2, [3, 1, 2]),
      ],
      elections: [],
    });
    assert.deepEqual(expand.summary, { moves: 4, elections: 0, bytes: 1830, batches: 3, brokersTouched: SIX });
  });

  test('leaders: destination ++ source, then elections; rollback reorders back and re-elects', () => {
    const leaders = phase(plan, 'leaders');
    const all = [e('__consumer_offsets', 0), e('orders', 0), e('orders', 1), e('orders', 2)];
    assert.deepEqual(leaders.batches, [
      {
        reassignments: [
          r('__consumer_offsets', 0, [102, 103, 101, 2, 3, 1]),
          r('orders', 0, [101, 102, 103, 1, 2, 3]),
          r('orders', 1, [102, 103, 101, 2, 3, 1]),
          r('orders', 2, [103, 101, 102, 3, 1, 2]),
        ],
        elections: all,
        configOps: [],
      },
    ]);
    assert.deepEqual(leaders.rollback, {
      reassignments: [
        r('__consumer_offsets', 0, [2, 3, 1, 102, 103, 101]),
        r('orders', 0, [1, 2, 3, 101, 102, 103]),
        r('orders', 1, [2, 3, 1, 102, 103, 101]),
        r('orders', 2, [3, 1, 2, 103, 101, 102]),
      ],
      elections: all,
    });
  });

  test('shrink to the destination; cleanup deletes every throttle key on touched topics and brokers', () => {
    const shrink = phase(plan, 'shrink');
    assert.deepEqual(shrink.batches[0]!.reassignments, [
      r('__consumer_offsets', 0, [102, 103, 101]),
      r('orders', 0, [101, 102, 103]),
      r('orders', 1, [102, 103, 101]),
      r('orders', 2, [103, 101, 102]),
    ]);
    assert.deepEqual(shrink.summary, { moves: 4, elections: 0, bytes: 1830, batches: 1, brokersTouched: [1, 2, 3] });
    const cleanup = phase(plan, 'cleanup');
    const del = (resource: string, key: string): ConfigOp => ({ resource, op: 'DELETE', key, value: null });
    assert.deepEqual(cleanup.batches, [
      {
        reassignments: [],
        elections: [],
        configOps: [
          del('topic:__consumer_offsets', LR),
          del('topic:__consumer_offsets', FR),
          del('topic:orders', LR),
          del('topic:orders', FR),
          ...SIX.flatMap((b) => [
            del(`broker:${b}`, leaderRate),
            del(`broker:${b}`, followerRate),
            del(`broker:${b}`, alterLogDirsRate),
          ]),
        ],
      },
    ]);
    assert.deepEqual(cleanup.rollback, { reassignments: [], elections: [] });
  });

  test('large-first reverses the expand order', () => {
    const large = planMigration(loadFixture('three-to-three.json'), {
      placement: { mode: 'map', map: parseBrokerMap('1=101,2=102,3=103') },
      perBrokerMoves: 2,
      order: 'large-first',
    });
    const order = phase(large, 'expand').batches.flatMap((b) =>
      b.reassignments.map((x) => `${x.topic}/${x.partition}`),
    );
    assert.deepEqual(order, ['orders/0', 'orders/2', 'orders/1', '__consumer_offsets/0']);
  });
});

test('3→3 automatic: the worked placement (leaders and replicas level, racks distinct)', () => {
  const plan = planMigration(loadFixture('three-to-three.json'), { placement: { mode: 'auto' } });
  const destinations = Object.fromEntries(Object.entries(plan.mapping).map(([k, m]) => [k, m.destination]));
  // "__consumer_offsets" sorts first ('_' < 'o'); each topic restarts its own tie-break counts.
  assert.deepEqual(destinations, {
    '__consumer_offsets/0': [101, 102, 103],
    'orders/0': [102, 101, 103],
    'orders/1': [103, 101, 102],
    'orders/2': [101, 102, 103],
  });
  assert.equal(phase(plan, 'expand').batches.length, 2, 'one batch of 4 (cap 5) plus the closing batch');
});

describe('RF 2 over two availability zones', () => {
  test('automatic: one replica per AZ, leaders and replicas level', () => {
    const plan = planMigration(loadFixture('two-az.json'), { placement: { mode: 'auto' } });
    assert.deepEqual(
      Object.values(plan.mapping).map((m) => m.destination),
      [
        [101, 102],
        [103, 104],
        [102, 101],
        [104, 103],
      ],
    );
    assert.deepEqual(
      phase(plan, 'expand').batches.flatMap((b) => b.reassignments.map((x) => x.replicas)),
      [
        [4, 1, 104, 103],
        [3, 4, 102, 101],
        [2, 3, 103, 104],
        [1, 2, 101, 102],
      ],
      'small first: payments/3 (1000 B) … payments/0 (4000 B)',
    );
    assert.deepEqual(plan.findings, []);
  });

  test('--rf 2 from RF 3 on three racks onto two AZs: five replicas while moving, two at the end', () => {
    const cluster = makeCluster(
      [
        { id: 1, rack: 'a', role: 'source' },
        { id: 2, rack: 'b', role: 'source' },
        { id: 3, rack: 'c', role: 'source' },
        { id: 101, rack: 'x', role: 'destination' },
        { id: 102, rack: 'y', role: 'destination' },
        { id: 103, rack: 'x', role: 'destination' },
        { id: 104, rack: 'y', role: 'destination' },
      ],
      {
        orders: [
          [1, 2, 3],
          [2, 3, 1],
        ],
      },
    );
    const plan = planMigration(cluster, { placement: { mode: 'auto', rf: 2 } });
    assert.deepEqual(plan.mapping['orders/0'], { source: [1, 2, 3], destination: [101, 102] });
    assert.deepEqual(plan.mapping['orders/1'], { source: [2, 3, 1], destination: [103, 104] });
    const lists = (name: string) => phase(plan, name).batches.flatMap((b) => b.reassignments.map((x) => x.replicas));
    assert.deepEqual(lists('expand'), [
      [1, 2, 3, 101, 102],
      [2, 3, 1, 103, 104],
    ]);
    assert.deepEqual(lists('leaders'), [
      [101, 102, 1, 2, 3],
      [103, 104, 2, 3, 1],
    ]);
    assert.deepEqual(lists('shrink'), [
      [101, 102],
      [103, 104],
    ]);
    assert.deepEqual(
      plan.findings.map((f) => f.code),
      ['sizes-unknown', 'rf-lowered'],
    );
  });

  test('an RF larger than the destination brokers is refused, naming --rf', () => {
    assert.throws(
      () => planMigration(loadFixture('two-az.json'), { placement: { mode: 'auto', rf: 5 } }),
      (err: unknown) => err instanceof InvalidInputErrors && /--rf: got 5, expected at most 4/.test(err.message),
    );
  });

  test('RF 3 on two AZs: spread 2+1 and a warning', () => {
    const plan = planMigration(loadFixture('two-az.json'), { placement: { mode: 'auto', rf: 3 } });
    assert.ok(plan.findings.some((f) => f.code === 'racks-fewer-than-rf'));
    for (const { destination } of Object.values(plan.mapping)) {
      const azs = destination.map((d) => (d % 2 === 1 ? 'az1' : 'az2'));
      assert.equal(new Set(azs).size, 2, `${destination} uses both AZs`);
    }
  });
});

test('3→4 brokers on racks a,b,c,a: distinct racks; leaders level; rack a shares its load', () => {
  const plan = planMigration(loadFixture('three-to-four.json'), { placement: { mode: 'auto' } });
  const rack: Record<number, string> = { 101: 'a', 102: 'b', 103: 'c', 104: 'a' };
  const leaders = new Map<number, number>();
  const replicas = new Map<number, number>();
  for (const { destination } of Object.values(plan.mapping)) {
    assert.equal(new Set(destination.map((d) => rack[d])).size, 3);
    leaders.set(destination[0]!, (leaders.get(destination[0]!) ?? 0) + 1);
    for (const d of destination) replicas.set(d, (replicas.get(d) ?? 0) + 1);
  }
  // 14 partitions: 102 and 103 are alone in their racks so hold every one; 101 and 104 split rack a.
  assert.deepEqual(Object.fromEntries(replicas), { 101: 7, 102: 14, 103: 14, 104: 7 });
  const counts = [...leaders.values()].sort();
  assert.ok(counts.length === 4 && counts[3]! - counts[0]! <= 1, `leaders ${JSON.stringify([...leaders])}`);
  assert.ok(
    Object.keys(plan.mapping).some((k) => k.startsWith('__transaction_state/')),
    'internal topics are planned',
  );
  assert.deepEqual(
    plan.findings.filter((f) => f.code === 'internal-topics').map((f) => f.message),
    ['internal topics move too: __consumer_offsets, __transaction_state'],
  );
});

test('6→3 brokers: every partition lands on all three; the destinations cap batches at 5', () => {
  const plan = planMigration(loadFixture('six-to-three.json'), { placement: { mode: 'auto' } });
  for (const { destination } of Object.values(plan.mapping)) assert.deepEqual([...destination].sort(), [101, 102, 103]);
  const leaders = Object.values(plan.mapping).map((m) => m.destination[0]);
  assert.deepEqual(
    [101, 102, 103].map((b) => leaders.filter((l) => l === b).length),
    [4, 4, 3],
  );
  const expand = phase(plan, 'expand');
  assert.deepEqual(
    expand.batches.map((b) => b.reassignments.length),
    [5, 5, 1, 0],
  );
  // Between batches a source broker with no move left loses its rate; 101-103 keep theirs.
  const deleted = expand.batches[1]!.configOps.filter((op) => op.op === 'DELETE').map((op) => op.resource);
  const first = new Set(expand.batches[0]!.reassignments.flatMap((x) => x.replicas));
  const second = new Set(expand.batches[1]!.reassignments.flatMap((x) => x.replicas));
  const expected = [...first].filter((b) => !second.has(b)).sort((a, b) => a - b);
  assert.deepEqual(
    [...new Set(deleted)],
    expected.map((b) => `broker:${b}`),
  );
  assert.ok(!deleted.some((res) => /broker:10[123]/.test(res)));
});

test('a kept broker (role both) in source and destination appears once: dedupe keeps the first occurrence', () => {
  const cluster = makeCluster(
    [
      { id: 1, role: 'both' },
      { id: 2, role: 'source' },
      { id: 3, role: 'source' },
      { id: 102, role: 'destination' },
      { id: 103, role: 'destination' },
    ],
    { orders: [[2, 1, 3]] },
  );
  const plan = planMigration(cluster, { placement: { mode: 'map', map: parseBrokerMap('2=102,3=103') } });
  assert.deepEqual(plan.mapping['orders/0'], { source: [2, 1, 3], destination: [102, 1, 103] });
  const lists = (name: string) => phase(plan, name).batches.flatMap((b) => b.reassignments.map((x) => x.replicas));
  assert.deepEqual(lists('expand'), [[2, 1, 3, 102, 103]]);
  assert.deepEqual(lists('leaders'), [[102, 1, 103, 2, 3]]);
  assert.deepEqual(lists('shrink'), [[102, 1, 103]]);
  const follower = phase(plan, 'expand').batches[0]!.configOps.find((op) => op.key === THROTTLE_KEYS.followerReplicas);
  assert.equal(follower?.value, '0:102,0:103', 'broker 1 already holds the data: no follower throttle for it');
});
