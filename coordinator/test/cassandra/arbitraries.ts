// fast-check generators of small random Cassandra topologies for the property tests: 1-3 DCs of 1-5
// nodes on 1-3 racks (some racks may stay empty), 1-4 vnodes per node, tokens drawn from the whole
// signed 64-bit range, from a tiny range (to put tokens side by side) and the extremes.

import fc from 'fast-check';
import { MAX_TOKEN, MIN_TOKEN } from '../../src/cassandra/index.ts';
import type { Topology, TopologyKeyspace, TopologyNode } from '../../src/cassandra/types.ts';

const tokenArb = fc.oneof(
  fc.bigInt({ min: MIN_TOKEN, max: MAX_TOKEN }),
  fc.bigInt({ min: -40n, max: 40n }),
  fc.constantFrom(MIN_TOKEN, MAX_TOKEN, MIN_TOKEN + 1n),
);

const dcArb = fc.record({
  racks: fc.array(fc.nat({ max: 2 }), { minLength: 1, maxLength: 5 }),
  vnodes: fc.integer({ min: 1, max: 4 }),
});

function keyspacesArb(dcs: string[]): fc.Arbitrary<TopologyKeyspace[]> {
  const nts = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: dcs.length, maxLength: dcs.length }).map(
    (factors): Record<string, string> => ({
      class: 'NetworkTopologyStrategy',
      ...Object.fromEntries(factors.map((f, i) => [dcs[i]!, String(f)])),
    }),
  );
  const simple = fc
    .integer({ min: 1, max: 4 })
    .map((rf): Record<string, string> => ({ class: 'SimpleStrategy', replication_factor: String(rf) }));
  return fc
    .array(fc.oneof({ arbitrary: nts, weight: 4 }, { arbitrary: simple, weight: 1 }), { minLength: 1, maxLength: 3 })
    .map((replications) => replications.map((replication, i) => ({ name: `ks${i}`, replication })));
}

export interface TopologyArbOptions {
  minDcs?: number;
  maxDcs?: number;
}

export function topologyArb(options: TopologyArbOptions = {}): fc.Arbitrary<Topology> {
  return fc.array(dcArb, { minLength: options.minDcs ?? 1, maxLength: options.maxDcs ?? 3 }).chain((dcSpecs) => {
    const total = dcSpecs.reduce((sum, dc) => sum + dc.racks.length * dc.vnodes, 0);
    const dcs = dcSpecs.map((_, i) => `dc${i}`);
    return fc
      .tuple(fc.uniqueArray(tokenArb, { minLength: total, maxLength: total }), keyspacesArb(dcs))
      .map(([tokens, keyspaces]) => {
        let next = 0;
        const take = (count: number) => {
          next += count;
          return tokens.slice(next - count, next).map(String);
        };
        const nodes: TopologyNode[] = dcSpecs.flatMap((dc, d) =>
          dc.racks.map((rack, k) => ({
            address: `10.${d}.0.${k + 1}`,
            dc: dcs[d]!,
            rack: `r${rack}`,
            tokens: take(dc.vnodes),
          })),
        );
        return { partitioner: 'Murmur3Partitioner', nodes, keyspaces };
      });
  });
}
