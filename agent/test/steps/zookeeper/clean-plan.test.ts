// The chroot cleaner's decisions on hand-made readings: membership against /zookeeper/config, each
// chroot check failing on its own, the deletion order (identity last) and the multi-op batches, whose
// size is compared with what node-zookeeper-client really serializes.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { ZOOKEEPER_JUTE_MAXBUFFER, ZOOKEEPER_MAX_BATCH_BYTES, ZooKeeperCleanParams } from '@drover/shared';
import fc from 'fast-check';
import { parseEnsembleConfig } from '../../../src/clients/zookeeper/index.ts';
import {
  batchBytes,
  type ChrootSurvey,
  checkMembership,
  checkName,
  deletionOrder,
  judgeChroot,
  planBatches,
  readClusterId,
} from '../../../src/steps/zookeeper/clean-plan.ts';

const config = parseEnsembleConfig(
  [
    'server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181',
    'server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181',
    'server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181',
    'version=100000004',
  ].join('\n'),
  'test',
);
const members = [
  { id: 1, host: '10.0.0.1' },
  { id: 2, host: '10.0.0.2' },
  { id: 3, host: '10.0.0.3', clientPort: 2181 },
];
const self = { myid: 1, host: '10.0.0.1' };

test('membership: the destination servers only, the local server among them', () => {
  assert.deepEqual(checkMembership(config, members, self), []);
  // A source server still listed (the ensemble is not split off yet).
  const withSource = parseEnsembleConfig(
    'server.1=10.0.0.1:2888:3888:participant;2181\nserver.9=192.168.1.9:2888:3888:participant;2181',
    't',
  );
  const [outside, ...rest] = checkMembership(withSource, members, self);
  assert.equal(rest.length, 0);
  assert.equal(outside?.field, '/zookeeper/config');
  assert.equal(outside?.value, 'server.9=192.168.1.9:2888:3888:participant;2181');
  assert.match(outside?.expected ?? '', /only destination servers \(params\.members: 1, 2, 3\)/);
  // Same id, another host; and another client port than the member gives.
  const moved = parseEnsembleConfig(
    'server.1=10.0.0.1:2888:3888:participant;2181\nserver.2=10.9.9.9:2888:3888:participant;2181\nserver.3=10.0.0.3:2888:3888:participant;2182',
    't',
  );
  assert.deepEqual(
    checkMembership(moved, members, self).map((p) => p.value),
    ['server.2=10.9.9.9:2888:3888:participant;2181', 'server.3=10.0.0.3:2888:3888:participant;2182'],
  );
  // Run on a server that is not a destination member.
  assert.deepEqual(
    checkMembership(config, members, { myid: 7, host: '10.0.0.7' }).map((p) => p.field),
    ['params.members'],
  );
  // No server lines at all (3.4, or not a quorum config): refused.
  assert.equal(checkMembership({ members: [], version: null }, members, self)[0]?.field, '/zookeeper/config');
});

const stopped = (over: Partial<ChrootSurvey> = {}): ChrootSurvey => ({
  chroot: '/kafka-b',
  clusterIdText: '{"version":"1","id":"B-cluster"}',
  brokerIds: [],
  controller: false,
  ephemerals: [],
  znodes: 10,
  bytes: 100,
  ...over,
});

test("a stopped cluster's chroot passes; each failed check names the znode, the value and the expectation", () => {
  assert.deepEqual(judgeChroot(stopped(), 'A-cluster'), []);
  assert.deepEqual(judgeChroot(stopped({ clusterIdText: null }), 'A-cluster'), [
    {
      field: '/kafka-b/cluster/id',
      value: null,
      expected: 'a Kafka cluster id (a top-level znode that is not a Kafka chroot is never deleted)',
    },
  ]);
  assert.equal(judgeChroot(stopped({ clusterIdText: 'hello' }), 'A-cluster')[0]?.value, 'hello');
  assert.match(judgeChroot(stopped(), 'B-cluster')[0]?.expected ?? '', /another cluster than the kept one/);
  assert.deepEqual(judgeChroot(stopped({ brokerIds: ['2', '1'] }), 'A-cluster'), [
    {
      field: '/kafka-b/brokers/ids',
      value: ['1', '2'],
      expected: "no registered broker (stop that cluster's brokers first)",
    },
  ]);
  assert.equal(judgeChroot(stopped({ controller: true }), 'A-cluster')[0]?.field, '/kafka-b/controller');
  assert.deepEqual(judgeChroot(stopped({ ephemerals: ['/kafka-b/consumers/x'] }), 'A-cluster')[0]?.value, [
    '/kafka-b/consumers/x',
  ]);
  // Everything wrong at once: every problem reported.
  assert.equal(judgeChroot(stopped({ clusterIdText: null, brokerIds: ['1'], controller: true }), 'A').length, 3);
});

test('cluster ids and top-level names', () => {
  assert.equal(readClusterId('{"version":"1","id":"abc"}'), 'abc');
  for (const bad of ['', 'abc', '{}', '{"id":""}', '{"id":5}', 'null', '[1]']) assert.equal(readClusterId(bad), null);
  assert.deepEqual(checkName('kafka-b'), []);
  for (const bad of ['..', 'a..b', '.hidden', 'a b', 'ü']) assert.equal(checkName(bad).length, 1, bad);
});

test("deletion order: children before parents, the chroot's identity last (worked example)", () => {
  const paths = [
    '/kafka-b',
    '/kafka-b/admin',
    '/kafka-b/brokers',
    '/kafka-b/cluster',
    '/kafka-b/brokers/ids',
    '/kafka-b/brokers/topics',
    '/kafka-b/cluster/id',
    '/kafka-b/brokers/topics/t',
  ];
  assert.deepEqual(deletionOrder('/kafka-b', paths), {
    body: [
      '/kafka-b/brokers/topics/t',
      '/kafka-b/brokers/ids',
      '/kafka-b/brokers/topics',
      '/kafka-b/admin',
      '/kafka-b/brokers',
    ],
    tail: ['/kafka-b/cluster/id', '/kafka-b/cluster', '/kafka-b'],
  });
  // A restarted run on what is left: the same identity last.
  assert.deepEqual(deletionOrder('/kafka-b', ['/kafka-b', '/kafka-b/cluster', '/kafka-b/cluster/id']), {
    body: [],
    tail: ['/kafka-b/cluster/id', '/kafka-b/cluster', '/kafka-b'],
  });
});

// node-zookeeper-client's own encoder: what the server receives (length prefix included).
const jute = createRequire(import.meta.url)('node-zookeeper-client/lib/jute/index.js');
function serializedMultiBytes(paths: readonly string[]): number {
  const header = new jute.protocol.RequestHeader();
  header.type = jute.OP_CODES.MULTI;
  const ops = paths.map((path) => ({ type: jute.OP_CODES.DELETE, path, version: -1 }));
  return new jute.Request(header, new jute.TransactionRequest(ops)).toBuffer().length;
}

test('batches: consecutive, in order, under the op cap, and never smaller than the real serialized size', () => {
  const segment = fc.stringMatching(/^[a-z0-9._-]{1,200}$/);
  const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join('/')}`);
  fc.assert(
    fc.property(
      fc.array(path, { maxLength: 400 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 4096, max: 20_000 }),
      (paths, maxOps, maxBytes) => {
        const batches = planBatches(paths, { maxOps, maxBytes });
        assert.deepEqual(batches.flat(), paths);
        for (const batch of batches) {
          assert.ok(batch.length >= 1 && batch.length <= maxOps);
          assert.ok(batchBytes(batch) <= maxBytes);
          assert.ok(serializedMultiBytes(batch) <= batchBytes(batch), 'estimate below the real size');
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('batches at the defaults: 20,000 long paths stay under half of jute.maxbuffer and 1000 ops', () => {
  const paths = Array.from(
    { length: 20_000 },
    (_, i) => `/kafka-b/brokers/topics/${'t'.repeat(200)}-${i}/partitions/0`,
  );
  // The step's defaults, as a params object without batch fields gets them.
  const { batchMaxOps, batchMaxBytes } = ZooKeeperCleanParams.parse({
    keep: '/kafka-a',
    members: [{ id: 1, host: 'h' }],
  });
  assert.deepEqual([batchMaxOps, batchMaxBytes], [1000, ZOOKEEPER_MAX_BATCH_BYTES]);
  const batches = planBatches(paths, { maxOps: batchMaxOps, maxBytes: batchMaxBytes });
  assert.ok(batches.length >= 20);
  for (const batch of batches) {
    assert.ok(batch.length <= 1000);
    const real = serializedMultiBytes(batch);
    assert.ok(real <= ZOOKEEPER_MAX_BATCH_BYTES && real < ZOOKEEPER_JUTE_MAXBUFFER, `${real} bytes`);
  }
});
