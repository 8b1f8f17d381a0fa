// Golden rings with answers worked out by hand: NetworkTopologyStrategy's rack rules (1 vs 3 racks,
// RF 2 and 3, two DCs with different rack layouts), SimpleStrategy, vnodes 1/16/256, a token at the
// minimum value and the wrap-around range.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildRing,
  MIN_TOKEN,
  parseReplication,
  placeReplicas,
  type Ring,
  rangeAt,
  replicasInDc,
  replicasOf,
} from '../../src/cassandra/index.ts';
import type { Topology } from '../../src/cassandra/types.ts';
import { node, nts, roundRobin, simple, topology } from './build.ts';

/** Replica addresses of every range, keyed "(start,end]". */
function placementTable(t: Topology, keyspace = 0): Record<string, string[]> {
  const ring = buildRing(t);
  const ks = t.keyspaces[keyspace]!;
  const placement = placeReplicas(ring, parseReplication(ks.name, ks.replication));
  const table: Record<string, string[]> = {};
  for (let i = 0; i < ring.size; i++) {
    const [start, end] = rangeAt(ring, i);
    table[`(${start},${end}]`] = replicasOf(placement, i).map((id) => ring.nodes[id]!.address);
  }
  return table;
}

const names = (ring: Ring, ids: number[]) => ids.map((id) => ring.nodes[id]!.address);

// The worked example of placement.ts: A B in r1, C in r2, D in r3.
const fourNodes = (racks: [string, string, string, string]) => [
  node(`A dc1 ${racks[0]} 0`),
  node(`B dc1 ${racks[1]} 10`),
  node(`C dc1 ${racks[2]} 20`),
  node(`D dc1 ${racks[3]} 30`),
];

describe('NetworkTopologyStrategy, one DC', () => {
  test('3 racks, RF 3: a rack seen once is skipped until every rack has a replica', () => {
    assert.deepEqual(placementTable(topology(fourNodes(['r1', 'r1', 'r2', 'r3']), [nts('ks', { dc1: 3 })])), {
      '(30,0]': ['A', 'C', 'D'],
      '(0,10]': ['B', 'C', 'D'],
      '(10,20]': ['C', 'D', 'A'],
      '(20,30]': ['D', 'A', 'C'],
    });
  });

  test('3 racks, RF 2: no rack repeats at all (repeats = RF - racks < 0)', () => {
    assert.deepEqual(placementTable(topology(fourNodes(['r1', 'r1', 'r2', 'r3']), [nts('ks', { dc1: 2 })])), {
      '(30,0]': ['A', 'C'],
      '(0,10]': ['B', 'C'],
      '(10,20]': ['C', 'D'],
      '(20,30]': ['D', 'A'],
    });
  });

  test('1 rack, RF 3 and RF 2: the next distinct nodes clockwise', () => {
    const nodes = fourNodes(['r1', 'r1', 'r1', 'r1']);
    assert.deepEqual(placementTable(topology(nodes, [nts('ks', { dc1: 3 })])), {
      '(30,0]': ['A', 'B', 'C'],
      '(0,10]': ['B', 'C', 'D'],
      '(10,20]': ['C', 'D', 'A'],
      '(20,30]': ['D', 'A', 'B'],
    });
    assert.deepEqual(placementTable(topology(nodes, [nts('ks', { dc1: 2 })]))['(20,30]'], ['D', 'A']);
  });

  test('2 racks, RF 3: one repeat allowed, taken by the first same-rack node met', () => {
    // A r1, B r1, C r2, D r2: from A: A (r1), B (repeat, 1 left → 0), C (r2).
    assert.deepEqual(placementTable(topology(fourNodes(['r1', 'r1', 'r2', 'r2']), [nts('ks', { dc1: 3 })])), {
      '(30,0]': ['A', 'B', 'C'],
      '(0,10]': ['B', 'C', 'D'],
      '(10,20]': ['C', 'D', 'A'],
      '(20,30]': ['D', 'A', 'B'],
    });
  });

  test('RF above the node count places every node once', () => {
    const t = topology([node('A dc1 r1 0'), node('B dc1 r2 10')], [nts('ks', { dc1: 3 })]);
    assert.deepEqual(placementTable(t), { '(10,0]': ['A', 'B'], '(0,10]': ['B', 'A'] });
  });

  test('a node with several tokens is chosen once', () => {
    const t = topology([node('A dc1 r1 0 5'), node('B dc1 r1 10'), node('C dc1 r1 20')], [nts('ks', { dc1: 2 })]);
    assert.deepEqual(placementTable(t)['(20,0]'], ['A', 'B']);
  });
});

describe('NetworkTopologyStrategy, two DCs with different rack layouts', () => {
  // dc2 has 3 racks (A..D as above at 0..30), dc1 one rack (X Y Z at 5, 15, 25); RF dc1 2, dc2 3.
  // This is the layout where cassandra-driver's getReplicas goes wrong.
  const t = topology(
    [
      ...fourNodes(['r1', 'r1', 'r2', 'r3']).map((n) => ({ ...n, dc: 'dc2' })),
      node('X dc1 r 5'),
      node('Y dc1 r 15'),
      node('Z dc1 r 25'),
    ],
    [nts('ks', { dc1: 2, dc2: 3 })],
  );

  test('each DC follows its own rack rules; the list is in ring-walk order across DCs', () => {
    const table = placementTable(t);
    assert.deepEqual(table['(30,0]'], ['A', 'X', 'Y', 'C', 'D']);
    assert.deepEqual(table['(0,5]'], ['X', 'B', 'Y', 'C', 'D']);
    assert.deepEqual(table['(25,30]'], ['D', 'A', 'X', 'Y', 'C']);
    assert.deepEqual(table['(15,20]'], ['C', 'Z', 'D', 'A', 'X']);
  });

  test('replicasInDc gives one DC in ring-walk order', () => {
    const ring = buildRing(t);
    const placement = placeReplicas(ring, parseReplication('ks', t.keyspaces[0]!.replication));
    const position = ring.tokens.indexOf('0');
    assert.deepEqual(names(ring, replicasInDc(placement, position, ring.dcId.get('dc2')!)), ['A', 'C', 'D']);
    assert.deepEqual(names(ring, replicasInDc(placement, position, ring.dcId.get('dc1')!)), ['X', 'Y']);
  });

  test('a DC missing from the map or at RF 0 holds nothing', () => {
    const only = { ...t, keyspaces: [nts('ks', { dc1: 0, dc2: 1 })] };
    assert.deepEqual(placementTable(only)['(30,0]'], ['A']);
  });
});

describe('SimpleStrategy', () => {
  test('the next RF distinct nodes, whatever their DC and rack', () => {
    const t = topology([node('A dc1 r1 0 40'), node('B dc2 r1 10'), node('C dc1 r1 20')], [simple('ks', 2)]);
    assert.deepEqual(placementTable(t), {
      '(40,0]': ['A', 'B'],
      '(0,10]': ['B', 'C'],
      '(10,20]': ['C', 'A'],
      '(20,40]': ['A', 'B'],
    });
  });
});

describe('minimum token and wrap-around', () => {
  const min = MIN_TOKEN.toString();
  const t = topology(
    [node(`A dc1 r1 ${min}`), node('B dc1 r1 0'), node('C dc1 r1 9223372036854775807')],
    [nts('ks', { dc1: 2 })],
  );

  test('the first range wraps from the last token to the minimum token', () => {
    const ring = buildRing(t);
    assert.deepEqual(rangeAt(ring, 0), ['9223372036854775807', min]);
    assert.deepEqual(rangeAt(ring, 1), [min, '0']);
    assert.deepEqual(rangeAt(ring, 2), ['0', '9223372036854775807']);
  });

  test('the walk for the last range wraps to the start of the ring', () => {
    assert.deepEqual(placementTable(t), {
      [`(9223372036854775807,${min}]`]: ['A', 'B'],
      [`(${min},0]`]: ['B', 'C'],
      '(0,9223372036854775807]': ['C', 'A'],
    });
  });

  test('a single token owns the whole ring', () => {
    const one = topology([node('A dc1 r1 42')], [nts('ks', { dc1: 3 })]);
    assert.deepEqual(placementTable(one), { '(42,42]': ['A'] });
  });
});

describe('vnodes 1, 16 and 256 (evenly spaced tokens dealt round-robin)', () => {
  // Token j belongs to node j mod 6, so the walk from token j meets nodes j, j+1, j+2, … (mod 6).
  for (const vnodes of [1, 16, 256]) {
    test(`${vnodes} vnodes, 3 racks interleaved (node k in rack k mod 3), RF 3: nodes j, j+1, j+2`, () => {
      const t = topology(
        roundRobin(6, vnodes, 'dc1', (k) => `r${k % 3}`),
        [nts('ks', { dc1: 3 })],
      );
      const ring = buildRing(t);
      const placement = placeReplicas(ring, parseReplication('ks', t.keyspaces[0]!.replication));
      for (let j = 0; j < ring.size; j++) {
        assert.deepEqual(
          names(ring, replicasOf(placement, j)),
          [0, 1, 2].map((d) => `n${(j + d) % 6}`),
        );
      }
    });

    test(`${vnodes} vnodes, racks in pairs (node k in rack floor(k/2)), RF 3: the same-rack neighbour is skipped`, () => {
      const t = topology(
        roundRobin(6, vnodes, 'dc1', (k) => `r${Math.floor(k / 2)}`),
        [nts('ks', { dc1: 3 })],
      );
      const ring = buildRing(t);
      const placement = placeReplicas(ring, parseReplication('ks', t.keyspaces[0]!.replication));
      // From node k: k, then the first node of each other rack met clockwise.
      const expected = [
        ['n0', 'n2', 'n4'],
        ['n1', 'n2', 'n4'],
        ['n2', 'n4', 'n0'],
        ['n3', 'n4', 'n0'],
        ['n4', 'n0', 'n2'],
        ['n5', 'n0', 'n2'],
      ];
      for (let j = 0; j < ring.size; j++) assert.deepEqual(names(ring, replicasOf(placement, j)), expected[j % 6]);
    });

    test(`${vnodes} vnodes, 1 rack, RF 2: nodes j, j+1`, () => {
      const t = topology(
        roundRobin(6, vnodes, 'dc1', () => 'r'),
        [nts('ks', { dc1: 2 })],
      );
      const ring = buildRing(t);
      const placement = placeReplicas(ring, parseReplication('ks', t.keyspaces[0]!.replication));
      for (let j = 0; j < ring.size; j++) {
        assert.deepEqual(names(ring, replicasOf(placement, j)), [`n${j % 6}`, `n${(j + 1) % 6}`]);
      }
    });
  }
});
