// Reading the cluster file: the format, DescribeConfigs-style configs, and every problem
// reported with its JSON path, the value and what was expected.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { InvalidInputError, InvalidInputErrors } from '@drover/shared';
import { parseCluster, parseClusterFile } from '../../src/kafka/index.ts';
import { fixturePath } from './helpers.ts';

test('reads the issue format: brokers with role, topics with partitions; internal topics flagged', () => {
  const cluster = parseClusterFile(readFileSync(fixturePath('three-to-three.json'), 'utf8'));
  assert.equal(cluster.brokers.length, 6);
  assert.deepEqual(cluster.brokers[3], {
    id: 101,
    host: 'kafka-1.new.example',
    rack: 'euw1a',
    role: 'destination',
    listeners: ['PLAINTEXT', 'SSL'],
    bytesInPerSec: null,
    throttles: [],
  });
  const offsets = cluster.topics.find((t) => t.name === '__consumer_offsets')!;
  assert.equal(offsets.internal, true);
  assert.deepEqual(cluster.topics[0]!.partitions[1], {
    topic: 'orders',
    partition: 1,
    replicas: [2, 3, 1],
    leader: 2,
    isr: [2, 3, 1],
    offlineReplicas: [],
    addingReplicas: [],
    removingReplicas: [],
    sizeBytes: 100,
    bytesInPerSec: null,
  });
});

test('keeps only throttle configs that are set, with where they come from', () => {
  const cluster = parseClusterFile(readFileSync(fixturePath('preflight.json'), 'utf8'));
  const throttles = (id: number) => cluster.brokers.find((b) => b.id === id)!.throttles;
  assert.deepEqual(throttles(1), [
    { name: 'leader.replication.throttled.rate', value: '10000000', source: 'STATIC_BROKER_CONFIG' },
  ]);
  assert.deepEqual(throttles(2), [
    { name: 'follower.replication.throttled.rate', value: '20000000', source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' },
  ]);
  assert.deepEqual(throttles(3), [
    { name: 'leader.replication.throttled.rate', value: '30000000', source: 'DYNAMIC_BROKER_CONFIG' },
  ]);
  assert.deepEqual(cluster.topics[0]!.throttles, [
    { name: 'leader.replication.throttled.replicas', value: '0:1,0:2', source: 'DYNAMIC_TOPIC_CONFIG' },
  ]);
});

test('sizes per replica: the largest is the partition size', () => {
  const cluster = parseCluster({
    brokers: [
      { id: 1, host: 'h1', role: 'source' },
      { id: 2, host: 'h2', role: 'destination' },
    ],
    topics: [
      { name: 't', partitions: [{ partition: 0, replicas: [1], leader: 1, replicaSizeBytes: { 1: 500, 2: 700 } }] },
    ],
  });
  assert.equal(cluster.topics[0]!.partitions[0]!.sizeBytes, 700);
});

test('a malformed file reports every problem with field, value and expectation', () => {
  const bad = {
    brokers: [
      { id: 1, host: 'h1', role: 'source' },
      { id: 1, host: 'h2', role: 'destination' },
      { id: 3, host: '', role: 'target' },
    ],
    topics: [
      {
        name: 'orders',
        partitions: [
          { partition: 0, replicas: [1, 7], leader: 1, isr: [1] },
          { partition: 0, replicas: [1, 1], leader: 5, isr: [1, 9] },
        ],
      },
      { name: 'a/b', partitions: [] },
    ],
  };
  assert.throws(
    () => parseCluster(bad),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputErrors);
      const fields = err.problems.map((p) => p.field);
      for (const f of [
        'cluster.brokers[1].id',
        'cluster.brokers[2].host',
        'cluster.brokers[2].role',
        'cluster.topics[0].partitions[0].replicas',
        'cluster.topics[0].partitions[1].replicas',
        'cluster.topics[0].partitions[1].leader',
        'cluster.topics[0].partitions[1].isr',
        'cluster.topics[0].partitions[1].partition',
        'cluster.topics[1].name',
      ]) {
        assert.ok(fields.includes(f), `reports ${f}: ${err.message}`);
      }
      assert.match(
        err.message,
        /cluster\.topics\[0\]\.partitions\[0\]\.replicas: got \[1,7\], expected broker ids from "brokers" \(unknown: 7\)/,
      );
      return true;
    },
  );
});

test('not JSON, or not an object, is refused clearly', () => {
  assert.throws(
    () => parseClusterFile('{ nope', 'cluster(x.json)'),
    (err: unknown) =>
      err instanceof InvalidInputError && /cluster\(x\.json\): got .* expected a JSON document/.test(err.message),
  );
  assert.throws(() => parseCluster([]), /expected a JSON object/);
  assert.throws(
    () => parseCluster({ brokers: [{ id: 1, host: 'h', role: 'source' }], topics: [] }),
    /at least one broker with role "destination" or "both"/,
  );
});

test('a hand-written file may omit leader and isr; an explicit -1 means offline', () => {
  const cluster = parseCluster({
    brokers: [
      { id: 1, host: 'h1', role: 'source' },
      { id: 2, host: 'h2', role: 'source' },
      { id: 3, host: 'h3', role: 'destination' },
    ],
    topics: [
      {
        name: 't',
        partitions: [
          { partition: 0, replicas: [2, 1] },
          { partition: 1, replicas: [1, 2], leader: -1, isr: [] },
        ],
      },
    ],
  });
  const [p0, p1] = cluster.topics[0]!.partitions;
  assert.deepEqual([p0!.leader, p0!.isr], [2, [2, 1]]);
  assert.deepEqual([p1!.leader, p1!.isr], [-1, []]);
});
