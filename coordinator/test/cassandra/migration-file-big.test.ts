// The rebuild phase of a big cluster (45 + 45 nodes, 256 vnodes each, 5 keyspaces at RF 3,
// the rehearsal's critical-path shape): every wave is ONE cassandra.rebuild step under the params
// limit (items carry masks over their node's replicated ranges), and each mask selects exactly the
// planner's ranges when read the way the agent reads it (its node's ranges from describering, in any
// order, sorted by end token; digest and count checked). The verify gate carries masks too: one
// step instead of 108 in a row, and the ranges each mask selects are everything the node rebuilt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CassandraOwnedMask,
  cassandraRebuildStep,
  cassandraRebuildVerifyStep,
  decodeRangeMask,
  ownedRangesDigest,
  resolveOwnedMask,
  sortByEndToken,
} from '@drover/shared';
import { buildRing, planRebuild } from '../../src/cassandra/index.ts';
import { cassandraMigrationPlanFile, extendedTopology } from '../../src/cassandra/migration-file.ts';
import { placeReplicas, replicasInDc } from '../../src/cassandra/placement.ts';
import { parseReplication } from '../../src/cassandra/replication.ts';
import { rangeAt } from '../../src/cassandra/ring.ts';
import type { TopologyNode } from '../../src/cassandra/types.ts';
import { nts, topology } from './build.ts';

// The rehearsal's synthesized layout (coordinator/src/rehearse/synthesize.ts): evenly spaced tokens
// dealt round-robin, the new DC's half a step after the old DC's; each new node then copies each
// keyspace from two old nodes, 384 ranges each: 45 x 5 x 2 rebuilds in 10 waves of 45.
const NODES = 45;
const VNODES = 256;
const step = 2n ** 64n / BigInt(NODES * VNODES);
const nodes: TopologyNode[] = ['old', 'new'].flatMap((dc, d) =>
  Array.from({ length: NODES }, (_, i) => ({
    address: `10.${d + 1}.0.${i + 1}`,
    dc,
    rack: `r${(i % 3) + 1}`,
    tokens: Array.from({ length: VNODES }, (_, v) =>
      (-(2n ** 63n) + BigInt(v * NODES + i) * step + (d === 1 ? step / 2n : 0n)).toString(),
    ),
  })),
);
const keyspaces = ['ks1', 'ks2', 'ks3', 'ks4', 'ks5'].map((name) => nts(name, { old: 3 }));
const extended = extendedTopology(topology(nodes, keyspaces), 'old', 'new', 3);
const ring = buildRing(extended);
const plan = planRebuild(extended, ring, { sourceDc: 'old', destDc: 'new', maxStreamsPerSource: 1 });
const agentOf = new Map(extended.nodes.map((n) => [n.address, `a-${n.address.replaceAll('.', '_')}`]));
const document = cassandraMigrationPlanFile(extended, plan, {
  name: 'big',
  cluster: 'big',
  delegate: 'a-10_2_0_1',
  sourceDc: 'old',
  destDc: 'new',
  replicationFactor: 3,
  agentOf,
});
const rebuild = document.phases.find((p) => p.name === 'rebuild');
type Item = {
  agent: string;
  node: string;
  keyspace: string;
  source: string;
  ranges?: [string, string][];
  owned?: CassandraOwnedMask;
  part?: number;
};

test('45 + 45 nodes x 256 vnodes: every wave is one step, each under the 150 KB params limit', () => {
  const items = plan.order.flat().length;
  assert.equal(items, 45 * 5 * 2, `${items} rebuilds`);
  assert.equal(plan.order.length, 10);
  const steps = rebuild?.steps ?? [];
  assert.equal(steps.length, plan.order.length, `${steps.length} steps for ${plan.order.length} waves`);
  for (const [w, step] of steps.entries()) {
    assert.equal(step.name, `wave-${w + 1}`);
    const bytes = JSON.stringify(step.params).length;
    assert.ok(bytes <= 150_000, `${step.name}: ${bytes} bytes of params`);
    const wave = (step.params as { rebuilds: Item[] }).rebuilds;
    assert.equal(wave.length, plan.order[w]!.length);
    assert.deepEqual(new Set(step.target as string[]), new Set(wave.map((i) => i.agent)));
  }
  // Every wave's params pass cassandra.rebuild's schema (what the plan loader checks).
  for (const step of steps) {
    const parsed = cassandraRebuildStep.params.safeParse(step.params);
    assert.ok(parsed.success, `${step.name}: ${parsed.error?.message}`);
  }
});

test('each mask, read as the agent reads it, selects exactly the planner’s ranges of that rebuild', () => {
  // The agent's view: for each (node, keyspace), the ranges describering lists for the node, in
  // describering's (arbitrary) order; here reversed, to show the order does not matter.
  const agentOwned = new Map<string, [string, string][]>();
  for (const ks of extended.keyspaces.filter((k) => k.name.startsWith('ks'))) {
    const placement = placeReplicas(ring, parseReplication('replication', ks.replication));
    for (let p = ring.size - 1; p >= 0; p--)
      for (const id of replicasInDc(placement, p, ring.dcId.get('new')!)) {
        const key = `${ring.nodes[id]!.address}|${ks.name}`;
        const list = agentOwned.get(key) ?? [];
        list.push(rangeAt(ring, p));
        agentOwned.set(key, list);
      }
  }
  const planned = new Map<string, string[]>();
  for (const ks of plan.keyspaces)
    for (const r of ks.rebuilds)
      planned.set(
        `${r.node}|${ks.name}|${r.source}|${r.part ?? 0}`,
        r.ranges.map(([s, e]) => `${s},${e}`),
      );
  let checked = 0;
  let masks = 0;
  for (const step of rebuild?.steps ?? [])
    for (const item of (step.params as { rebuilds: Item[] }).rebuilds) {
      const want = [...(planned.get(`${item.node}|${item.keyspace}|${item.source}|${item.part ?? 0}`) ?? ['missing'])];
      checked++;
      if (!item.owned) {
        // A wave small enough to list its ranges (the last waves, with few rebuilds left).
        assert.deepEqual((item.ranges ?? []).map(([s, e]) => `${s},${e}`).sort(), want.sort());
        continue;
      }
      masks++;
      const list = sortByEndToken(agentOwned.get(`${item.node}|${item.keyspace}`) ?? []);
      assert.equal(item.owned.count, list.length);
      assert.equal(item.owned.digest, ownedRangesDigest(list));
      const picked = decodeRangeMask(item.owned.mask, list.length);
      assert.ok(Array.isArray(picked), String(picked));
      assert.deepEqual(picked.map((i) => `${list[i]![0]},${list[i]![1]}`).sort(), want.sort());
    }
  assert.equal(checked, plan.order.flat().length);
  assert.ok(masks >= 45 * 5, `${masks} of ${checked} rebuilds carried as masks`);
});

test('the verify gate: one step of masks (not 16 MB of listed ranges), each selecting every range its node rebuilt', () => {
  const verify = document.phases.find((p) => p.name === 'verify');
  const checks = verify?.gate ?? [];
  assert.equal(checks.length, 1, `${checks.length} verify steps`);
  const params = checks[0]?.params as { expected: Item[] };
  assert.ok(JSON.stringify(params).length <= 150_000, `${JSON.stringify(params).length} bytes`);
  assert.ok(cassandraRebuildVerifyStep.params.safeParse(params).success);
  assert.equal(params.expected.length, 45 * 5);
  const rebuilt = new Map<string, Set<string>>();
  for (const ks of plan.keyspaces)
    for (const r of ks.rebuilds) {
      const key = `${r.node}|${ks.name}`;
      const set = rebuilt.get(key) ?? new Set<string>();
      for (const [s, e] of r.ranges) set.add(`${s},${e}`);
      rebuilt.set(key, set);
    }
  for (const item of params.expected) {
    assert.ok(item.owned && item.ranges === undefined, 'a mask');
    const replicated = [...(rebuilt.get(`${item.node}|${item.keyspace}`) ?? [])].map(
      (r) => r.split(',') as [string, string],
    );
    // Each new node rebuilds every range it replicates, so the mask selects all of them.
    const picked = resolveOwnedMask(item.owned, replicated);
    assert.ok(Array.isArray(picked), JSON.stringify(picked));
    assert.equal(picked.length, replicated.length);
  }
  // A ring that changed since the plan was written is named, not half-checked.
  const first = params.expected[0]!;
  assert.deepEqual(resolveOwnedMask(first.owned!, [['0', '1']]).constructor, Object);
  assert.equal((resolveOwnedMask(first.owned!, [['0', '1']]) as { field: string }).field, 'ring');
});

test('a mask that does not fit its count is refused with what was expected', () => {
  assert.match(String(decodeRangeMask('AA', 24)), /base64url of 3 byte\(s\) for 24 range\(s\)/);
  assert.match(String(decodeRangeMask('gA', 7)), /no bit set beyond range 6 \(bit 7 is\)/);
  assert.match(String(decodeRangeMask('AA', 8)), /at least one bit set/);
  assert.deepEqual(decodeRangeMask('BQ', 8), [0, 2]);
});
