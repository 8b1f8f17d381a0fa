// Cassandra really works here: two datacenters of real 5.0 nodes on loopback; a NetworkTopologyStrategy
// keyspace written at LOCAL_QUORUM in one DC and read back through cassandra-driver; `nodetool status`
// shows both DCs; on a freshly added DC node, `nodetool rebuild -ks -ts -s -- dc1` streams exactly one
// range, which then appears in system.available_ranges_v2 of that node and nowhere else.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import cassandra from 'cassandra-driver';
import { type CassandraCluster, type CassandraNode, startCassandra } from '../harness/cassandra.ts';
import { waitFor } from '../harness/process.ts';

const { Client, types } = cassandra;
const NODES_PER_DC = 3;
const ROWS = 300;

interface RingRange {
  start: bigint;
  end: bigint;
  endpoints: { host: string; datacenter: string }[];
}

/** Parses `nodetool describering KS`: one TokenRange(...) line per range. */
function parseDescribeRing(output: string): RingRange[] {
  const ranges: RingRange[] = [];
  for (const line of output.split('\n')) {
    const match = /TokenRange\(start_token:(-?\d+), end_token:(-?\d+),.*endpoint_details:\[(.*)\]\)/.exec(line);
    if (!match) continue;
    const endpoints = [...match[3]!.matchAll(/host:([\d.]+), datacenter:([\w-]+)/g)].map((m) => ({
      host: m[1]!,
      datacenter: m[2]!,
    }));
    ranges.push({ start: BigInt(match[1]!), end: BigInt(match[2]!), endpoints });
  }
  return ranges;
}

/**
 * A range as stored in system.available_ranges_v2: Cassandra's pre-3.0 range serialization, whose last
 * 20 bytes are [int32 8][int64 left][int32 8][int64 right] for Murmur3 tokens.
 */
function decodeRange(blob: Buffer): [bigint, bigint] {
  const n = blob.length;
  return [blob.readBigInt64BE(n - 20), blob.readBigInt64BE(n - 8)];
}

async function localRows(client: cassandra.Client, node: CassandraNode, query: string) {
  const host = client.hosts.get(`${node.address}:${node.nativePort}`);
  assert.ok(host, `driver knows ${node.address}`);
  return (await client.execute(query, [], { host })).rows;
}

async function statusOf(cluster: CassandraCluster, node: CassandraNode): Promise<string> {
  return (await cluster.nodetool(node, ['status'])).stdout;
}

test(`Cassandra: 2 DCs x ${NODES_PER_DC} nodes, LOCAL_QUORUM write/read, new DC, rebuild of one range`, {
  timeout: 900_000,
}, async (t) => {
  const cluster = await startCassandra({
    datacenters: [{ name: 'dc1', racks: ['r1', 'r2', 'r3'], nodes: NODES_PER_DC }],
  });
  t.after(() => cluster.stop());
  t.diagnostic(`dc1 (${NODES_PER_DC} nodes, cassandra ${cluster.version}) started in ${cluster.startupMs} ms`);

  const client = new Client({
    contactPoints: cluster.contactPoints('dc1'),
    localDataCenter: 'dc1',
    queryOptions: { consistency: types.consistencies.localQuorum, prepare: true },
  });
  t.after(() => client.shutdown());
  await client.connect();
  await client.execute(
    `CREATE KEYSPACE drover WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': ${NODES_PER_DC}}`,
  );
  await client.execute('CREATE TABLE drover.kv (id int PRIMARY KEY, v text)');
  const insert = 'INSERT INTO drover.kv (id, v) VALUES (?, ?)';
  for (let i = 0; i < ROWS; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => client.execute(insert, [i + j, `value-${i + j}`])));
  }
  const one = await client.execute('SELECT v FROM drover.kv WHERE id = ?', [42]);
  assert.equal(one.first()?.get('v'), 'value-42');
  const count = await client.execute('SELECT count(*) AS n FROM drover.kv');
  assert.equal(Number(count.first()?.get('n')), ROWS);

  const addStarted = Date.now();
  const dc2 = await cluster.addDatacenter({ name: 'dc2', racks: ['r1', 'r2', 'r3'], nodes: NODES_PER_DC });
  t.diagnostic(`dc2 (${NODES_PER_DC} nodes, auto_bootstrap: false) added in ${Date.now() - addStarted} ms`);
  assert.ok(dc2.every((n) => !n.autoBootstrap && n.datacenter === 'dc2'));
  await client.execute(
    `ALTER KEYSPACE drover WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': ${NODES_PER_DC}, 'dc2': ${NODES_PER_DC}}`,
  );

  const status = await waitFor(
    async () => {
      const out = await statusOf(cluster, cluster.nodes[0]!);
      return (out.match(/^UN\s/gm) ?? []).length === 2 * NODES_PER_DC ? out : undefined;
    },
    { what: `nodetool status to show ${2 * NODES_PER_DC} nodes Up/Normal`, timeoutMs: 60_000, intervalMs: 2000 },
  );
  assert.match(status, /^Datacenter: dc1$/m);
  assert.match(status, /^Datacenter: dc2$/m);

  // Pick a range that the new node replicates, that does not wrap, and that holds rows in dc1.
  const target = dc2[0]!;
  const other = dc2[1]!;
  const ring = parseDescribeRing((await cluster.nodetool(target, ['describering', 'drover'])).stdout);
  assert.ok(ring.length > 0, 'describering lists ranges');
  const tokens = (await client.execute('SELECT token(id) AS t FROM drover.kv')).rows.map((r) =>
    BigInt(String(r.get('t'))),
  );
  const candidates = ring
    .filter((r) => r.start < r.end && r.endpoints.some((e) => e.host === target.address))
    .map((r) => ({ range: r, rows: tokens.filter((tok) => tok > r.start && tok <= r.end).length }))
    .filter((c) => c.rows > 0)
    .sort((a, b) => b.rows - a.rows);
  const chosen = candidates[0];
  assert.ok(chosen, 'a non-wrapping range of the new node holds rows');
  const source = chosen.range.endpoints.find((e) => e.datacenter === 'dc1');
  assert.ok(source, 'the range has a dc1 replica');
  const ts = `(${chosen.range.start},${chosen.range.end}]`;

  const rebuildStarted = Date.now();
  await cluster.nodetool(target, ['rebuild', '-ks', 'drover', '-ts', ts, '-s', source.host, '--', 'dc1']);
  t.diagnostic(
    `rebuild of ${ts} (${chosen.rows} rows) on ${target.name} from ${source.host}: ${Date.now() - rebuildStarted} ms`,
  );

  // System tables are node-local: ask the dc2 nodes themselves, through a dc2-local client.
  const dc2Client = new Client({ contactPoints: cluster.contactPoints('dc2'), localDataCenter: 'dc2' });
  t.after(() => dc2Client.shutdown());
  await dc2Client.connect();
  const available = await localRows(
    dc2Client,
    target,
    "SELECT full_ranges, transient_ranges FROM system.available_ranges_v2 WHERE keyspace_name = 'drover'",
  );
  assert.equal(available.length, 1, 'the rebuilt node records available ranges for drover');
  const fullRanges = (available[0]!.get('full_ranges') as Buffer[]).map(decodeRange);
  assert.deepEqual(fullRanges, [[chosen.range.start, chosen.range.end]]);
  const untouched = await localRows(
    dc2Client,
    other,
    "SELECT full_ranges FROM system.available_ranges_v2 WHERE keyspace_name = 'drover'",
  );
  assert.equal(untouched.length, 0, `${other.name} was not rebuilt`);

  // The streamed range landed as SSTables on the rebuilt node only.
  const sstables = async (node: CassandraNode) => {
    const out = (await cluster.nodetool(node, ['tablestats', 'drover.kv'])).stdout;
    return Number(/SSTable count: (\d+)/.exec(out)?.[1] ?? Number.NaN);
  };
  assert.ok((await sstables(target)) >= 1, `${target.name} has SSTables after the rebuild`);
  assert.equal(await sstables(other), 0, `${other.name} has none`);

  for (const n of cluster.nodes) {
    t.diagnostic(
      `${n.name} ${n.datacenter}/${n.rack} peak RSS ${Math.round((n.process.peakRssBytes() ?? 0) / 2 ** 20)} MiB`,
    );
  }
});
