// Property: on random small topologies, placement (per-DC walks over slots) agrees range by range
// with the deliberately naive whole-ring reference of naive-placement.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildRing, parseReplication, placeReplicas, replicasOf } from '../../src/cassandra/index.ts';
import { topologyArb } from './arbitraries.ts';
import { naiveReplicas } from './naive-placement.ts';

test('placement agrees with the naive reference on random topologies', () => {
  fc.assert(
    fc.property(topologyArb(), (t) => {
      const ring = buildRing(t);
      for (const keyspace of t.keyspaces) {
        const placement = placeReplicas(ring, parseReplication(keyspace.name, keyspace.replication));
        const expected = naiveReplicas(t, keyspace.replication);
        for (let i = 0; i < ring.size; i++) {
          const actual = replicasOf(placement, i).map((id) => ring.nodes[id]!.address);
          assert.deepEqual(actual, expected.get(ring.tokens[i]!), `${keyspace.name} range ending ${ring.tokens[i]}`);
        }
      }
    }),
    { numRuns: 200 },
  );
});

test('every range gets min(RF, nodes) replicas per DC, all distinct', () => {
  fc.assert(
    fc.property(topologyArb(), (t) => {
      const ring = buildRing(t);
      for (const keyspace of t.keyspaces) {
        if (keyspace.replication.class !== 'NetworkTopologyStrategy') continue;
        const placement = placeReplicas(ring, parseReplication(keyspace.name, keyspace.replication));
        const wanted = ring.dcs.reduce(
          (sum, dc, id) => sum + Math.min(Number(keyspace.replication[dc] ?? 0), ring.nodesPerDc[id]!),
          0,
        );
        for (let i = 0; i < ring.size; i++) {
          const replicas = replicasOf(placement, i);
          assert.equal(replicas.length, wanted);
          assert.equal(new Set(replicas).size, wanted);
        }
      }
    }),
    { numRuns: 100 },
  );
});
