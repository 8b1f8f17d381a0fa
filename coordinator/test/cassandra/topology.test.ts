// Reading topology files and system-table rows: every malformed field reported at once, tokens in
// canonical form, duplicate tokens named, nodes sorted by address.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidInputErrors } from '@drover/shared';
import { buildRing, loadTopology, parseTopology, topologyFromSystemTables } from '../../src/cassandra/index.ts';
import { compareNatural } from '../../src/cassandra/ring.ts';
import { node, topology } from './build.ts';

const fails = (input: unknown, ...patterns: RegExp[]) =>
  assert.throws(
    () => parseTopology(input),
    (error: unknown) => error instanceof InvalidInputErrors && patterns.every((p) => p.test(error.message)),
  );

describe('parseTopology', () => {
  test('accepts the issue format and canonicalises tokens', () => {
    const t = parseTopology({
      partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
      nodes: [
        {
          address: '10.0.0.1',
          hostId: 'h',
          dc: 'aws-use1',
          rack: 'use1a',
          tokens: ['007', '-0', '-9223372036854775808'],
        },
      ],
      keyspaces: [{ name: 'ks1', replication: { class: 'NetworkTopologyStrategy', 'aws-use1': 3 } }],
    });
    assert.deepEqual(t.nodes[0]!.tokens, ['7', '0', '-9223372036854775808']);
    assert.equal(t.keyspaces[0]!.replication['aws-use1'], '3');
  });

  test('reports every problem at once, naming field, value and expectation', () => {
    fails(
      {
        partitioner: 'RandomPartitioner',
        nodes: [
          { address: '10.0.0.1', dc: 'a', rack: 'r', tokens: ['9223372036854775808', 'x'] },
          { address: '10.0.0.1', dc: '', rack: 'r', tokens: [] },
        ],
        keyspaces: [{ name: 'ks', replication: { class: 'NetworkTopologyStrategy', a: 'three' } }],
      },
      /partitioner: got "RandomPartitioner", expected "Murmur3Partitioner"/,
      /nodes\[0\]\.tokens\[0\]: got "9223372036854775808", expected a Murmur3 token/,
      /nodes\[0\]\.tokens\[1\]: got "x"/,
      /nodes\[1\]\.address: got "10\.0\.0\.1", expected an address no other node has/,
      /nodes\[1\]\.dc/,
      /nodes\[1\]\.tokens: got \[\]/,
      /keyspaces\[ks\]\.replication\.a: got "three", expected a replication factor/,
    );
  });

  test('rejects replication_factor under NetworkTopologyStrategy, as Cassandra does', () => {
    fails(
      topology(
        [node('A dc r 0')],
        [{ name: 'ks', replication: { class: 'NetworkTopologyStrategy', replication_factor: '3' } }],
      ),
      /replication_factor is for SimpleStrategy/,
    );
  });

  test('a duplicate token names both owners', () => {
    assert.throws(
      () => loadTopology(JSON.stringify(topology([node('A dc r 5'), node('B dc r 05')]))),
      (error: unknown) =>
        error instanceof InvalidInputErrors &&
        /"5", expected a token no other node owns \(also owned by A\)/.test(error.message),
    );
  });

  test('not JSON at all', () => {
    assert.throws(
      () => loadTopology('{nope', 'topo.json'),
      (e: unknown) => e instanceof InvalidInputErrors && /topo\.json/.test(e.message),
    );
  });
});

describe('buildRing', () => {
  test('sorts tokens as signed 64-bit integers and nodes by address, numbers as numbers', () => {
    const ring = buildRing(
      topology([
        node('10.0.0.10 dc1 r1 9223372036854775807 -1'),
        node('10.0.0.2 dc2 r1 -9223372036854775808 4294967296'),
        node('10.0.0.9 dc1 r2 4294967295 0'),
      ]),
    );
    assert.deepEqual(ring.tokens, [
      '-9223372036854775808',
      '-1',
      '0',
      '4294967295',
      '4294967296',
      '9223372036854775807',
    ]);
    assert.deepEqual(
      ring.nodes.map((n) => n.address),
      ['10.0.0.2', '10.0.0.9', '10.0.0.10'],
    );
    assert.deepEqual(Array.from(ring.owner), [0, 2, 1, 1, 0, 2]);
    assert.deepEqual(ring.dcs, ['dc1', 'dc2']);
    assert.deepEqual(Array.from(ring.racksPerDc), [2, 1]);
    // "r1" of dc1 and "r1" of dc2 are different racks.
    assert.equal(ring.rackCount, 3);
  });

  test('compareNatural', () => {
    assert.deepEqual(['n10', 'n9', 'a', 'n1'].sort(compareNatural), ['a', 'n1', 'n9', 'n10']);
  });
});

describe('topologyFromSystemTables', () => {
  test('maps system.local, system.peers(_v2) and system_schema.keyspaces rows', () => {
    const address = (text: string) => ({ toString: () => text });
    const t = topologyFromSystemTables(
      {
        broadcast_address: address('10.0.0.1'),
        host_id: address('11111111-1111-1111-1111-111111111111'),
        data_center: 'aws-use1',
        rack: 'use1a',
        tokens: new Set(['-5', '5']),
        partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
      },
      [{ peer: address('10.0.0.2'), host_id: null, data_center: 'aws-use1', rack: 'use1b', tokens: ['0'] }],
      [
        {
          keyspace_name: 'ks1',
          replication: { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '2' },
        },
        {
          keyspace_name: 'ks2',
          replication: new Map([
            ['class', 'NetworkTopologyStrategy'],
            ['aws-use1', '3'],
          ]),
        },
      ],
    );
    assert.deepEqual(t.nodes, [
      {
        address: '10.0.0.1',
        hostId: '11111111-1111-1111-1111-111111111111',
        dc: 'aws-use1',
        rack: 'use1a',
        tokens: ['-5', '5'],
      },
      { address: '10.0.0.2', dc: 'aws-use1', rack: 'use1b', tokens: ['0'] },
    ]);
    assert.deepEqual(t.keyspaces[1], {
      name: 'ks2',
      replication: { class: 'NetworkTopologyStrategy', 'aws-use1': '3' },
    });
  });

  test('a peer without tokens (joining, or gossip trouble) is an input error', () => {
    assert.throws(
      () =>
        topologyFromSystemTables(
          {
            broadcast_address: '10.0.0.1',
            data_center: 'd',
            rack: 'r',
            tokens: ['1'],
            partitioner: 'Murmur3Partitioner',
          },
          [{ peer: '10.0.0.2', data_center: 'd', rack: 'r', tokens: null }],
          [],
        ),
      (error: unknown) => error instanceof InvalidInputErrors && /nodes\[1\]\.tokens: got null/.test(error.message),
    );
  });
});
