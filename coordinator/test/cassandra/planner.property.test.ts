// Properties of the planner on random topologies (2-3 DCs, random keyspaces, random down nodes):
// every invariant of the verifier holds for every plan; with nothing down and a destination RF at
// least the source RF, every source replica of every range is copied (so the new DC holds each
// write on at least as many replicas); planning is deterministic and ignores the file's node order.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  buildRing,
  NoSourceReplicasError,
  parseReplication,
  placeReplicas,
  planRebuild,
  type RebuildPlan,
  replicasInDc,
  verifyPlan,
} from '../../src/cassandra/index.ts';
import type { Topology } from '../../src/cassandra/types.ts';
import { topologyArb } from './arbitraries.ts';

const scenarioArb = topologyArb({ minDcs: 2, maxDcs: 3 }).chain((t) =>
  fc.record({
    topology: fc.constant(t),
    source: fc.nat({ max: 2 }),
    shift: fc.integer({ min: 1, max: 2 }),
    down: fc.subarray(t.nodes.map((n) => n.address)),
    maxStreamsPerSource: fc.integer({ min: 1, max: 3 }),
    // Small limits split (node, keyspace, source) groups into parts: exercised on every kind of plan.
    maxTokenRangesChars: fc.constantFrom(100, 150, 65_536),
  }),
);

type Scenario = {
  topology: Topology;
  source: number;
  shift: number;
  down: string[];
  maxStreamsPerSource: number;
  maxTokenRangesChars: number;
};

function dcsOf(s: Scenario): [string, string] {
  const dcs = [...new Set(s.topology.nodes.map((n) => n.dc))].sort();
  const source = s.source % dcs.length;
  return [dcs[source]!, dcs[(source + 1 + ((s.shift - 1) % (dcs.length - 1))) % dcs.length]!];
}

/** The plan, or undefined when the planner rightly refused (a keyspace with no source replica). */
function tryPlan(s: Scenario, topology = s.topology): RebuildPlan | undefined {
  const [sourceDc, destDc] = dcsOf(s);
  try {
    return planRebuild(topology, buildRing(topology), {
      sourceDc,
      destDc,
      down: s.down,
      maxStreamsPerSource: s.maxStreamsPerSource,
      maxTokenRangesChars: s.maxTokenRangesChars,
    });
  } catch (error) {
    if (!(error instanceof NoSourceReplicasError)) throw error;
    for (const name of error.keyspaces) {
      const replication = topology.keyspaces.find((k) => k.name === name)!.replication;
      assert.ok(Number(replication[sourceDc] ?? 0) === 0 && Number(replication[destDc] ?? 0) > 0);
    }
    return undefined;
  }
}

test('every invariant of the verifier holds for every generated plan', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const plan = tryPlan(s);
      if (plan === undefined) return;
      const result = verifyPlan(s.topology, buildRing(s.topology), plan);
      assert.deepEqual(result.violations, []);
    }),
    { numRuns: 150 },
  );
});

test('nothing down, destination RF >= source RF: every source replica of every range is copied', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const plan = tryPlan({ ...s, down: [] });
      if (plan === undefined) return;
      const ring = buildRing(s.topology);
      const [sourceDc, destDc] = dcsOf(s);
      const position = new Map(ring.tokens.map((t, i) => [t, i]));
      for (const keyspace of plan.keyspaces) {
        // Only SimpleStrategy can leave a range without a source-DC replica.
        assert.ok(
          keyspace.atRisk.every((r) => r.kind === 'no-source-replica' && keyspace.strategy === 'SimpleStrategy'),
        );
        const copied = new Map<number, Set<string>>();
        for (const r of keyspace.rebuilds) {
          for (const [, end] of r.ranges) {
            const p = position.get(end)!;
            copied.set(p, (copied.get(p) ?? new Set()).add(r.source));
          }
        }
        const replication = s.topology.keyspaces.find((k) => k.name === keyspace.name)!.replication;
        const placement = placeReplicas(ring, parseReplication(keyspace.name, replication));
        for (let p = 0; p < ring.size; p++) {
          const sources = replicasInDc(placement, p, ring.dcId.get(sourceDc)!).map((id) => ring.nodes[id]!.address);
          const dests = replicasInDc(placement, p, ring.dcId.get(destDc)!);
          const used = [...(copied.get(p) ?? [])].sort();
          if (dests.length >= sources.length) assert.deepEqual(used, [...sources].sort());
          else assert.equal(used.length, dests.length, 'fewer destinations: each copies a different source');
        }
      }
    }),
    { numRuns: 100 },
  );
});

test('planning is deterministic and does not depend on the order of nodes or tokens in the file', () => {
  fc.assert(
    fc.property(scenarioArb, fc.nat(), (s, seed) => {
      const shuffled: Topology = {
        ...s.topology,
        nodes: [...s.topology.nodes]
          .map((n, i) => ({ n: { ...n, tokens: [...n.tokens].reverse() }, key: (i * 7919 + seed) % 104729 }))
          .sort((a, b) => a.key - b.key)
          .map(({ n }) => n),
      };
      const first = tryPlan(s);
      assert.deepEqual(tryPlan(s), first);
      assert.deepEqual(JSON.stringify(tryPlan(s, shuffled)), JSON.stringify(first));
    }),
    { numRuns: 100 },
  );
});
