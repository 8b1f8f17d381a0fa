// The node-status summary ("may I drop tables now?"): only yes when every expected node has a fresh
// status that says available; a missing, stale, down or rebuilding node makes it no, with a reason.
// Also the KV names it is read from and the reader of the bucket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CassandraNodeStatus,
  cassandraStatusSubject,
  nodeStatusFilter,
  nodeStatusKey,
  parseNodeStatusKey,
  readNodeStatuses,
  summarizeClusterStatus,
} from '@drover/shared';

const NOW = 1_000_000;

function status(agent: string, over: Partial<CassandraNodeStatus> = {}): CassandraNodeStatus {
  return {
    agent,
    address: `10.0.0.${agent.slice(-1)}`,
    datacenter: 'dc1',
    state: 'normal',
    available: true,
    streaming: { sessions: 0, bytesReceived: 0, bytesToReceive: 0 },
    detail: 'gossip NORMAL',
    at: NOW - 1000,
    ...over,
  };
}

const summarize = (expected: string[], statuses: CassandraNodeStatus[]) =>
  summarizeClusterStatus({ cluster: 'c1', expected, statuses, now: NOW, staleMs: 10_000 });

test('every expected node fresh and available: all nodes available', () => {
  const s = summarize(['n1', 'n2'], [status('n2'), status('n1')]);
  assert.equal(s.allNodesAvailable, true);
  assert.deepEqual(s.notAvailable, []);
  assert.deepEqual(
    s.nodes.map((n) => [n.agent, n.stale]),
    [
      ['n1', false],
      ['n2', false],
    ],
  );
  assert.equal(s.cluster, 'c1');
  assert.equal(s.at, NOW);
});

test('an expected node without a status is not available', () => {
  const s = summarize(['n1', 'n2', 'n3'], [status('n1'), status('n2')]);
  assert.equal(s.allNodesAvailable, false);
  assert.equal(s.notAvailable.length, 1);
  assert.equal(s.notAvailable[0]?.agent, 'n3');
  assert.match(s.notAvailable[0]?.reason ?? '', /no status reported/);
  assert.equal(s.nodes.length, 2, 'only nodes with a status are listed as nodes');
});

test('a status older than staleMs is not available, even if it said available', () => {
  const s = summarize(['n1', 'n2'], [status('n1'), status('n2', { at: NOW - 10_001 })]);
  assert.equal(s.allNodesAvailable, false);
  assert.deepEqual(
    s.notAvailable.map((n) => n.agent),
    ['n2'],
  );
  assert.match(s.notAvailable[0]?.reason ?? '', /last status 10s old .*was normal/);
  assert.equal(s.nodes.find((n) => n.agent === 'n2')?.stale, true);
  // Exactly staleMs old is still fresh.
  assert.equal(summarize(['n1'], [status('n1', { at: NOW - 10_000 })]).allNodesAvailable, true);
});

test('a down node is not available, with its state and detail as the reason', () => {
  const down = status('n2', {
    state: 'down',
    available: false,
    address: '127.0.0.1',
    detail: 'All host(s) tried for query failed',
  });
  const s = summarize(['n1', 'n2'], [status('n1'), down]);
  assert.equal(s.allNodesAvailable, false);
  assert.deepEqual(s.notAvailable, [{ agent: 'n2', reason: 'down: All host(s) tried for query failed' }]);
});

test('a rebuilding node is not available', () => {
  const rebuilding = status('n1', {
    state: 'rebuilding',
    available: false,
    streaming: { sessions: 2, bytesReceived: 10, bytesToReceive: 100 },
    detail: '2 Rebuild/Rebuild session(s)',
  });
  const s = summarize(['n1', 'n2'], [rebuilding, status('n2')]);
  assert.equal(s.allNodesAvailable, false);
  assert.deepEqual(s.notAvailable, [{ agent: 'n1', reason: 'rebuilding: 2 Rebuild/Rebuild session(s)' }]);
});

test('no node at all is not "all available"; a reporting node outside expected still counts', () => {
  assert.equal(summarize([], []).allNodesAvailable, false);
  const extra = summarize(['n1'], [status('n1'), status('n9', { state: 'joining', available: false })]);
  assert.equal(extra.allNodesAvailable, false);
  assert.deepEqual(
    extra.notAvailable.map((n) => n.agent),
    ['n9'],
  );
});

test('the latest of several statuses of one agent is the one that counts', () => {
  const old = status('n1', { at: NOW - 5000, state: 'rebuilding', available: false });
  assert.equal(summarize(['n1'], [status('n1'), old]).allNodesAvailable, true);
  assert.equal(summarize(['n1'], [old, status('n1', { at: NOW - 6000 })]).allNodesAvailable, false);
});

test('keys, filter and subject are built from tokens only', () => {
  assert.equal(nodeStatusKey('c1', 'cass-1'), 'c1.cass-1');
  assert.equal(nodeStatusFilter('c1'), 'c1.*');
  assert.equal(cassandraStatusSubject('c1'), 'drover.status.cassandra.c1');
  assert.throws(() => nodeStatusKey('c.1', 'a'), /cluster/);
  assert.throws(() => nodeStatusFilter('*'), /cluster/);
  assert.throws(() => cassandraStatusSubject('>'), /cluster/);
  assert.deepEqual(parseNodeStatusKey('c1.cass-1'), { cluster: 'c1', agentId: 'cass-1' });
  assert.equal(parseNodeStatusKey('c1.cass.1'), undefined);
  assert.equal(parseNodeStatusKey('c1'), undefined);
});

test('readNodeStatuses: every keyed agent is expected; only well-formed statuses under their own key count', async () => {
  const values = new Map<string, { operation: string; value: string }>([
    ['c1.n1', { operation: 'PUT', value: JSON.stringify(status('n1')) }],
    ['c1.n2', { operation: 'PUT', value: 'not json' }],
    ['c1.n3', { operation: 'PUT', value: JSON.stringify(status('n1')) }], // claims another agent
    ['c1.n4', { operation: 'DEL', value: '' }],
    ['c2.n5', { operation: 'PUT', value: JSON.stringify(status('n5')) }],
  ]);
  const store = {
    async keys(filter: string) {
      assert.equal(filter, 'c1.*');
      return (async function* () {
        yield* [...values.keys()].filter((k) => k.startsWith('c1.'));
      })();
    },
    async get(key: string) {
      const v = values.get(key);
      return v ? { key, operation: v.operation, json: <T>() => JSON.parse(v.value) as T } : null;
    },
  };
  const read = await readNodeStatuses(store, 'c1');
  assert.deepEqual(read.agents, ['n1', 'n2', 'n3']);
  assert.deepEqual(
    read.statuses.map((s) => s.agent),
    ['n1'],
  );
  const s = summarizeClusterStatus({ cluster: 'c1', expected: read.agents, statuses: read.statuses, now: NOW });
  assert.equal(s.allNodesAvailable, false);
  assert.deepEqual(
    s.notAvailable.map((n) => n.agent),
    ['n2', 'n3'],
  );
});
