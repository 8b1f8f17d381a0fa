// Property tests of the planner on random small clusters: every phase's replica lists are exactly
// as defined, the leader never moves in expand, racks are distinct when possible, balance bounds
// hold, caps hold in every batch, throttles name exactly the moving replicas and are all removed,
// rollbacks restore the assignment before each phase, and the plan is deterministic.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputErrors } from '@drover/shared';
import fc from 'fast-check';
import {
  type Cluster,
  type MigrationPlan,
  type PartitionMapping,
  type PlanOptions,
  partitionKey,
  planMigration,
  THROTTLE_KEYS,
} from '../../src/kafka/index.ts';
import { type BrokerSpec, ConfigState, makeCluster, naiveDedupe, sortedNumbers, spread } from './helpers.ts';

const TOPIC_NAMES = ['orders', '__consumer_offsets', '__transaction_state', 'a.b-c_d', 'events'];

interface Scenario {
  cluster: Cluster;
  options: PlanOptions;
  /** Brokers that can receive replicas. */
  destinations: BrokerSpec[];
}

/** A tiny deterministic PRNG so one integer seed shapes the replicas. */
function prng(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

const scenarioArb = fc
  .record({
    nSource: fc.integer({ min: 1, max: 6 }),
    nDest: fc.integer({ min: 1, max: 7 }),
    destRacks: fc.integer({ min: 0, max: 4 }),
    equalRacks: fc.boolean(),
    keep: fc.boolean(),
    topics: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom(...TOPIC_NAMES),
        partitions: fc.integer({ min: 1, max: 8 }),
        rf: fc.integer({ min: 1, max: 3 }),
      }),
      { minLength: 1, maxLength: 4, selector: (t) => t.name },
    ),
    useMap: fc.boolean(),
    rf: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    perBroker: fc.integer({ min: 1, max: 5 }),
    electionBatchMax: fc.integer({ min: 1, max: 6 }),
    electionPerBrokerMax: fc.integer({ min: 1, max: 4 }),
    order: fc.constantFrom('small-first' as const, 'large-first' as const),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map((s): Scenario => {
    const random = prng(s.seed);
    const racks = s.destRacks;
    // Equal racks: brokers round-robin over racks with the count rounded to a multiple of racks.
    const nDest = s.equalRacks && racks > 0 ? Math.max(racks, s.nDest - (s.nDest % racks)) : s.nDest;
    const brokers: BrokerSpec[] = [];
    for (let i = 0; i < s.nSource; i++)
      brokers.push({ id: i + 1, rack: `src-${i % 3}`, role: s.keep && i === 0 ? 'both' : 'source' });
    for (let i = 0; i < nDest; i++) {
      const rack = racks === 0 ? null : s.equalRacks ? `r${i % racks}` : `r${random(racks)}`;
      brokers.push({ id: 101 + i, rack, role: 'destination' });
    }
    const holders = brokers.filter((b) => b.role !== 'destination').map((b) => b.id);
    const topics: Record<string, number[][]> = {};
    for (const t of s.topics) {
      const rf = Math.min(t.rf, holders.length);
      topics[t.name] = Array.from({ length: t.partitions }, () => {
        const pool = [...holders];
        return Array.from({ length: rf }, () => pool.splice(random(pool.length), 1)[0]!);
      });
    }
    const cluster = makeCluster(brokers, topics, (topic, p) => ((topic.length * 7919 + p * 104729) % 1000) * 1000);
    const destinations = brokers.filter((b) => b.role !== 'source');
    const sourcesOnly = brokers.filter((b) => b.role === 'source');
    const destOnly = brokers.filter((b) => b.role === 'destination');
    const caps = {
      perBrokerMoves: s.perBroker,
      electionBatchMax: s.electionBatchMax,
      electionPerBrokerMax: s.electionPerBrokerMax,
      order: s.order,
    };
    if (s.useMap && sourcesOnly.length <= destOnly.length) {
      const map = new Map(sourcesOnly.map((b, i) => [b.id, destOnly[(i + s.seed) % destOnly.length]!.id]));
      if (new Set(map.values()).size === map.size)
        return { cluster, destinations, options: { placement: { mode: 'map', map }, ...caps } };
    }
    return {
      cluster,
      destinations,
      options: { placement: { mode: 'auto', ...(s.rf === undefined ? {} : { rf: s.rf }) }, ...caps },
    };
  });

/** Plans, or returns null when the planner rightly refuses (an RF larger than the destination brokers). */
function planOrRefusal(s: Scenario): MigrationPlan | null {
  const { placement } = s.options;
  const maxRf = Math.max(...s.cluster.topics.flatMap((t) => t.partitions.map((p) => p.replicas.length)));
  const needed = placement.mode === 'auto' ? (placement.rf ?? maxRf) : 0;
  if (needed > s.destinations.length) {
    assert.throws(() => planMigration(s.cluster, s.options), InvalidInputErrors);
    return null;
  }
  return planMigration(s.cluster, s.options);
}

const RUNS = { numRuns: 150 };

test('every phase lists exactly the partitions it changes, with the defined replica lists', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const plan = planOrRefusal(s);
      if (!plan) return;
      assert.deepEqual(
        plan.phases.map((p) => p.name),
        ['expand', 'leaders', 'shrink', 'cleanup'],
      );
      const [expand, leaders, shrink] = plan.phases;
      const partitions = s.cluster.topics.flatMap((t) => t.partitions);
      assert.equal(Object.keys(plan.mapping).length, partitions.length);
      const listed = (phase: typeof expand) =>
        new Map(
          phase!.batches.flatMap((b) => b.reassignments).map((r) => [partitionKey(r.topic, r.partition), r.replicas]),
        );
      const inExpand = listed(expand);
      const inLeaders = listed(leaders);
      const inShrink = listed(shrink);
      const elections = new Set(
        leaders!.batches.flatMap((b) => b.elections).map((e) => partitionKey(e.topic, e.partition)),
      );
      for (const p of partitions) {
        const key = partitionKey(p.topic, p.partition);
        const { source, destination }: PartitionMapping = plan.mapping[key]!;
        assert.deepEqual(source, p.replicas);
        const rf =
          s.options.placement.mode === 'auto' ? (s.options.placement.rf ?? p.replicas.length) : p.replicas.length;
        assert.equal(destination.length, rf, `${key} RF`);
        assert.equal(new Set(destination).size, destination.length, `${key} distinct destinations`);
        for (const d of destination)
          assert.ok(
            s.destinations.some((b) => b.id === d),
            `${key} destination ${d} is a destination broker`,
          );
        const expandList = naiveDedupe([...source, ...destination]);
        const leadersList = naiveDedupe([...destination, ...source]);
        assert.deepEqual(
          inExpand.get(key),
          expandList.length > source.length ? expandList : undefined,
          `${key} expand`,
        );
        if (inExpand.has(key))
          assert.deepEqual(expandList.slice(0, source.length), source, `${key}: leader never moves`);
        assert.deepEqual(
          inLeaders.get(key),
          leadersList.join() !== expandList.join() ? leadersList : undefined,
          `${key} leaders`,
        );
        assert.equal(elections.has(key), p.leader !== destination[0], `${key} election`);
        assert.deepEqual(
          inShrink.get(key),
          destination.join() !== leadersList.join() ? destination : undefined,
          `${key} shrink`,
        );
      }
    }),
    RUNS,
  );
});

test('rollbacks restore the assignment before each phase; the phases end on the destination', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const plan = planOrRefusal(s);
      if (!plan) return;
      const state = new Map(Object.entries(plan.mapping).map(([k, m]) => [k, m.source]));
      for (const phase of plan.phases) {
        const before = new Map(state);
        for (const batch of phase.batches) {
          for (const r of batch.reassignments) state.set(partitionKey(r.topic, r.partition), r.replicas);
          for (const e of batch.elections) {
            const key = partitionKey(e.topic, e.partition);
            assert.equal(state.get(key)![0], plan.mapping[key]!.destination[0], `${key}: elected leader is D[0]`);
          }
        }
        const rolledBack = new Map(state);
        for (const r of phase.rollback.reassignments) rolledBack.set(partitionKey(r.topic, r.partition), r.replicas);
        assert.deepEqual(rolledBack, before, `rollback of ${phase.name}`);
      }
      for (const [key, m] of Object.entries(plan.mapping)) assert.deepEqual(state.get(key), m.destination, key);
    }),
    RUNS,
  );
});

test('caps hold in every batch: per broker as source or destination in expand, per new leader and in total in leaders', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const plan = planOrRefusal(s);
      if (!plan) return;
      const { perBrokerMoves = 5, electionBatchMax = 1000, electionPerBrokerMax = 250 } = s.options;
      const [expand, leaders, shrink] = plan.phases;
      for (const batch of expand!.batches) {
        const load = new Map<number, number>();
        for (const r of batch.reassignments) for (const id of r.replicas) load.set(id, (load.get(id) ?? 0) + 1);
        for (const [id, n] of load) assert.ok(n <= perBrokerMoves, `expand: broker ${id} has ${n} > ${perBrokerMoves}`);
      }
      for (const batch of leaders!.batches) {
        const keys = new Set(
          [...batch.reassignments, ...batch.elections].map((r) => partitionKey(r.topic, r.partition)),
        );
        assert.ok(keys.size <= electionBatchMax, `leaders batch of ${keys.size}`);
        const load = new Map<number, number>();
        for (const key of keys) {
          const leader = plan.mapping[key]!.destination[0]!;
          load.set(leader, (load.get(leader) ?? 0) + 1);
        }
        for (const [id, n] of load) assert.ok(n <= electionPerBrokerMax, `leaders: broker ${id} leads ${n}`);
      }
      for (const batch of shrink!.batches) assert.ok(batch.reassignments.length <= electionBatchMax);
    }),
    RUNS,
  );
});

test('throttles name exactly the moving replicas of each batch and are all removed', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const plan = planOrRefusal(s);
      if (!plan) return;
      const [expand, , , cleanup] = plan.phases;
      const rate = String(plan.options.throttleBytesPerSec);
      const configs = new ConfigState();
      const touched = new Set<string>();
      expand!.batches.forEach((batch, i) => {
        for (const op of batch.configOps) {
          configs.apply(op);
          touched.add(op.resource);
        }
        const expectedLists: string[] = [];
        const brokers = new Set<number>();
        for (const r of batch.reassignments) {
          const { source, destination } = plan.mapping[partitionKey(r.topic, r.partition)]!;
          for (const b of source)
            expectedLists.push(`topic:${r.topic}|${THROTTLE_KEYS.leaderReplicas}|${r.partition}:${b}`);
          for (const b of destination) {
            if (!source.includes(b))
              expectedLists.push(`topic:${r.topic}|${THROTTLE_KEYS.followerReplicas}|${r.partition}:${b}`);
          }
          for (const b of r.replicas) brokers.add(b);
        }
        assert.deepEqual(configs.listEntries(), expectedLists.sort(), `expand batch ${i} replica lists`);
        const expectedRates = sortedNumbers(brokers).flatMap((b) => [
          `broker:${b}|${THROTTLE_KEYS.leaderRate}=${rate}`,
          `broker:${b}|${THROTTLE_KEYS.followerRate}=${rate}`,
        ]);
        assert.deepEqual(configs.valueEntries(), expectedRates.sort(), `expand batch ${i} rates`);
        if (i === expand!.batches.length - 1)
          assert.equal(batch.reassignments.length, 0, 'the closing batch moves nothing');
      });
      assert.deepEqual(configs.anomalies, []);
      assert.ok(configs.isEmpty(), 'expand ends with no throttle left');
      const deleted = new Set(
        cleanup!.batches.flatMap((b) => b.configOps.map((op) => `${op.op} ${op.resource}|${op.key}`)),
      );
      for (const resource of touched) {
        const keys = resource.startsWith('topic:')
          ? [THROTTLE_KEYS.leaderReplicas, THROTTLE_KEYS.followerReplicas]
          : [THROTTLE_KEYS.leaderRate, THROTTLE_KEYS.followerRate, THROTTLE_KEYS.alterLogDirsRate];
        for (const key of keys)
          assert.ok(deleted.has(`DELETE ${resource}|${key}`), `cleanup deletes ${resource} ${key}`);
      }
      for (const batch of plan.phases.slice(1, 3).flatMap((p) => p.batches)) assert.deepEqual(batch.configOps, []);
    }),
    RUNS,
  );
});

test('automatic placement: distinct racks when possible, leaders balanced, replicas balanced when racks allow', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const { placement } = s.options;
      if (placement.mode !== 'auto') return;
      const plan = planOrRefusal(s);
      if (!plan) return;
      const rackOf = new Map(s.destinations.map((b) => [b.id, b.rack ?? `own-${b.id}`]));
      const rackCount = new Set(rackOf.values()).size;
      const leaders = new Map<number, number>();
      const replicas = new Map<number, number>();
      let maxRf = 0;
      for (const [key, { destination }] of Object.entries(plan.mapping)) {
        const racks = new Set(destination.map((d) => rackOf.get(d)));
        assert.equal(racks.size, Math.min(destination.length, rackCount), `${key}: racks of ${destination}`);
        leaders.set(destination[0]!, (leaders.get(destination[0]!) ?? 0) + 1);
        for (const d of destination) replicas.set(d, (replicas.get(d) ?? 0) + 1);
        maxRf = Math.max(maxRf, destination.length);
      }
      const ids = s.destinations.map((b) => b.id);
      // With one RF the replica sets always let leaders level out (balance.test.ts checks mixed RFs
      // against a brute-force reference: there, leaders are level whenever the sets allow it).
      const rfs = new Set(Object.values(plan.mapping).map((m) => m.destination.length));
      if (rfs.size === 1) assert.ok(spread(ids, leaders) <= 1, `leaders ${JSON.stringify([...leaders])}`);
      const perRack = new Map<string, number>();
      for (const r of rackOf.values()) perRack.set(r, (perRack.get(r) ?? 0) + 1);
      const racksAllow = [...perRack.values()].every((n) => n === perRack.values().next().value) && rackCount >= maxRf;
      if (racksAllow) assert.ok(spread(ids, replicas) <= 1, `replicas ${JSON.stringify([...replicas])}`);
    }),
    RUNS,
  );
});

test('the plan is deterministic: the same input gives the same plan', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const plan = planOrRefusal(s);
      if (!plan) return;
      assert.deepEqual(planMigration(structuredClone(s.cluster), s.options), plan);
    }),
    { numRuns: 100 },
  );
});
