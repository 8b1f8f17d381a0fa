// The Cassandra migration plan file: valid for the plan loader (every step known, every param passing
// its step's schema), phases in the seed's order, every rebuild of the planner in exactly one wave
// step on its node's agent, the verify gate expecting exactly the planned ranges, rollbacks where one
// exists, and the topology extended the way cassandra.keyspaces-extend will extend it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRing, planRebuild } from '../../src/cassandra/index.ts';
import { cassandraMigrationPlanFile, extendedTopology, sampleEndpoints } from '../../src/cassandra/migration-file.ts';
import { planFileYaml } from '../../src/kafka/plan-file.ts';
import { parsePlanText } from '../../src/plan/load.ts';
import { node, nts, simple, topology } from './build.ts';

const source = topology(
  [
    node('10.0.0.1 old r1 -6000000000000000000 0'),
    node('10.0.0.2 old r2 -3000000000000000000 3000000000000000000'),
    node('10.0.0.3 old r3 -9000000000000000000 6000000000000000000'),
    node('10.1.0.1 new r1 -7000000000000000000 1000000000000000000'),
    node('10.1.0.2 new r2 -4000000000000000000 4000000000000000000'),
    node('10.1.0.3 new r3 -1000000000000000000 7000000000000000000'),
  ],
  [
    nts('shop', { old: 3 }),
    simple('legacy', 1),
    { name: 'system', replication: { class: 'LocalStrategy' } },
    nts('system_auth', { old: 3 }),
  ],
);
const extended = extendedTopology(source, 'old', 'new', 3);
const plan = planRebuild(extended, buildRing(extended), { sourceDc: 'old', destDc: 'new', maxStreamsPerSource: 2 });
const agentOf = new Map(extended.nodes.map((n) => [n.address, `c1-${n.address.replaceAll('.', '_')}`]));
const options = {
  name: 'c1-add-new',
  cluster: 'c1',
  delegate: 'c1-10_1_0_1',
  sourceDc: 'old',
  destDc: 'new',
  replicationFactor: 3,
  agentOf,
};

test('the topology is extended as keyspaces-extend will do it: new DC added, SimpleStrategy converted', () => {
  const byName = new Map(extended.keyspaces.map((k) => [k.name, k.replication]));
  assert.deepEqual(byName.get('shop'), { class: 'NetworkTopologyStrategy', old: '3', new: '3' });
  assert.deepEqual(byName.get('legacy'), {
    class: 'org.apache.cassandra.locator.NetworkTopologyStrategy',
    old: '1',
    new: '3',
  });
  assert.deepEqual(byName.get('system'), { class: 'LocalStrategy' }, 'local keyspaces are left alone');
});

test('the plan file loads; every planned rebuild is in exactly one wave, on its own node’s agent', () => {
  const yaml = planFileYaml(
    cassandraMigrationPlanFile(extended, plan, { ...options, dropSourceDc: true }),
    'generated',
  );
  const { plan: loaded } = parsePlanText(yaml, 'generated.yaml');
  assert.deepEqual(
    loaded.phases.map((p) => p.name),
    ['prepare', 'extend', 'rebuild', 'verify', 'move-clients', 'drop-source-dc'],
  );
  const planned = plan.keyspaces.flatMap((k) =>
    k.rebuilds.map((r) => `${r.node}|${k.name}|${r.source}|${JSON.stringify(r.ranges)}`),
  );
  const waves = loaded.phases[2]!.steps;
  assert.equal(waves.length, plan.order.length);
  const inPlan: string[] = [];
  for (const wave of waves) {
    assert.equal(wave.step, 'cassandra.rebuild');
    const { rebuilds } = wave.params as {
      rebuilds: Array<{ agent: string; node: string; keyspace: string; source: string; ranges: unknown }>;
    };
    const nodes = rebuilds.map((r) => r.node);
    assert.equal(new Set(nodes).size, nodes.length, 'one rebuild per node per wave');
    assert.deepEqual(wave.target, { agents: [...new Set(rebuilds.map((r) => r.agent))] });
    for (const r of rebuilds) {
      assert.equal(r.agent, `c1-${r.node.replaceAll('.', '_')}`);
      inPlan.push(`${r.node}|${r.keyspace}|${r.source}|${JSON.stringify(r.ranges)}`);
    }
  }
  assert.deepEqual(inPlan.sort(), planned.sort());
  assert.ok(planned.length >= 6, `${planned.length} rebuilds planned`);
});

test('gates, approval and rollbacks', () => {
  const { plan: loaded } = parsePlanText(
    planFileYaml(cassandraMigrationPlanFile(extended, plan, { ...options, dropSourceDc: true }), 'generated'),
    'g.yaml',
  );
  const [prepare, extend, , verify, moveClients, drop] = loaded.phases;
  assert.ok(extend && verify);
  assert.deepEqual(prepare?.gate[0]?.expect, [{ field: 'resumable', equals: true }]);
  assert.deepEqual(prepare?.steps[0]?.target, { agents: ['c1-10_1_0_1', 'c1-10_1_0_2', 'c1-10_1_0_3'] });
  assert.deepEqual(extend?.steps[0]?.params, {
    action: 'add',
    datacenter: 'new',
    replicationFactor: 3,
    sourceDatacenter: 'old',
    allowPlacementChange: ['system_auth', 'system_distributed', 'system_traces'],
    allowDown: false,
    schemaAgreementTimeoutMs: 60_000,
  });
  assert.equal((extend.rollback[0]?.params as { action: string } | undefined)?.action, 'remove');
  const expected = (verify.gate[0]?.params as { expected: Array<{ ranges: unknown[] }> } | undefined)?.expected ?? [];
  const plannedRanges = plan.keyspaces.flatMap((k) => k.rebuilds.flatMap((r) => r.ranges)).length;
  assert.equal(
    expected.reduce((n, e) => n + e.ranges.length, 0),
    plannedRanges,
    'the gate expects every planned range',
  );
  assert.equal(moveClients?.approval, true);
  assert.equal(drop?.approval, true);
  assert.deepEqual(drop?.rollback[0]?.params, {
    action: 'add',
    datacenter: 'old',
    replicationFactor: 3,
    sourceDatacenter: 'old',
    allowPlacementChange: ['system_auth', 'system_distributed', 'system_traces'],
    allowDown: false,
    schemaAgreementTimeoutMs: 60_000,
  });
});

test('sample keys: replicas placed from their tokens (range ends inclusive, the wrap past the last token), carried by the first verify step', () => {
  const sample = (key: string, token: string, keyspace = 'legacy') => ({ keyspace, table: 't', key, token });
  const newDc = ['10.1.0.1', '10.1.0.2', '10.1.0.3'];
  const placed = sampleEndpoints(
    extended,
    [
      sample('a', '500'), // in (0, 1e18]: walks 10.1.0.1 then 10.0.0.2 (legacy has RF 1 in old)
      sample('b', '3000000000000000000'), // exactly 10.0.0.2's token: its own range
      sample('c', '8000000000000000000'), // past the last token: range 0, ending at 10.0.0.3's -9e18
      sample('d', '-6500000000000000000'), // in (-7e18, -6e18]: 10.0.0.1
      sample('e', '12', 'elsewhere'), // not migrated: left out
    ],
    new Set(['legacy', 'shop']),
  );
  assert.deepEqual(
    placed.map((p) => [p.key, [...p.endpoints].sort()]),
    [
      ['a', ['10.0.0.2', ...newDc]],
      ['b', ['10.0.0.2', ...newDc]],
      ['c', ['10.0.0.3', ...newDc]],
      ['d', ['10.0.0.1', ...newDc]],
    ],
  );
  const { plan: loaded } = parsePlanText(
    planFileYaml(cassandraMigrationPlanFile(extended, plan, { ...options, samples: [sample('a', '500')] }), 'g'),
    'g.yaml',
  );
  const verify = loaded.phases.find((p) => p.name === 'verify');
  const params = verify?.gate[0]?.params as { samples?: Array<{ key: string; endpoints: string[] }> } | undefined;
  assert.deepEqual(
    params?.samples?.map((s) => [s.key, [...s.endpoints].sort()]),
    [['a', ['10.0.0.2', ...newDc]]],
  );
});

test('the rebuild phase rolls back by wiping every destination node, one at a time, refused outside the new DC', () => {
  const { plan: loaded } = parsePlanText(
    planFileYaml(cassandraMigrationPlanFile(extended, plan, options), 'g'),
    'g.yaml',
  );
  const rebuild = loaded.phases.find((p) => p.name === 'rebuild');
  assert.equal(rebuild?.rollback.length, 1);
  assert.equal(rebuild?.rollback[0]?.step, 'cassandra.node-wipe');
  assert.deepEqual(rebuild?.rollback[0]?.target, { agents: ['c1-10_1_0_1', 'c1-10_1_0_2', 'c1-10_1_0_3'] });
  assert.deepEqual(rebuild?.rollback[0]?.params, { datacenter: 'new', readyTimeoutMs: 300_000 });
  assert.deepEqual(rebuild?.rollback[0]?.options.concurrency, { count: 1 });
});

test('a wave over the params limit carries masks; one that does not fit even so is cut into equal parts, nothing lost', () => {
  const waveItems = plan.order.map((w) => w.length);
  const document = cassandraMigrationPlanFile(extended, plan, { ...options, maxParamsBytes: 400 });
  const steps = document.phases[2]?.steps ?? [];
  assert.ok(steps.length > plan.order.length, `${steps.length} steps for ${plan.order.length} waves`);
  const items = steps.flatMap((s) => (s.params as { rebuilds: Array<{ ranges?: unknown; owned?: unknown }> }).rebuilds);
  assert.equal(items.length, plan.order.flat().length);
  assert.ok(
    items.every((i) => i.ranges === undefined && i.owned !== undefined),
    'every item of a wave over the limit is a mask',
  );
  for (const [w, count] of waveItems.entries()) {
    const parts = steps.filter((s) => s.name === `wave-${w + 1}` || s.name.startsWith(`wave-${w + 1}-`));
    const sizes = parts.map((s) => (s.params as { rebuilds: unknown[] }).rebuilds.length);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      count,
    );
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `wave ${w + 1} parts of equal size: ${sizes.join(', ')}`);
  }
  assert.doesNotThrow(() => parsePlanText(planFileYaml(document, 'generated'), 'generated.yaml'));
});

test('a small wave lists its ranges (the plan reads as it runs)', () => {
  const document = cassandraMigrationPlanFile(extended, plan, options);
  const items = (document.phases[2]?.steps ?? []).flatMap(
    (s) => (s.params as { rebuilds: Array<{ ranges?: unknown; owned?: unknown }> }).rebuilds,
  );
  assert.ok(items.every((i) => Array.isArray(i.ranges) && i.owned === undefined));
});

test('decommission-source-dc: after drop-source-dc, approval, every source node one at a time; refused without the drop', () => {
  const document = cassandraMigrationPlanFile(extended, plan, {
    ...options,
    dropSourceDc: true,
    decommissionSourceDc: true,
  });
  const { plan: loaded } = parsePlanText(planFileYaml(document, 'generated'), 'generated.yaml');
  assert.deepEqual(loaded.phases.map((p) => p.name).slice(-2), ['drop-source-dc', 'decommission-source-dc']);
  // system_auth keeps the source DC (Cassandra 5.0 refuses to drop a DC with live nodes from it).
  assert.deepEqual(document.phases.at(-2)?.steps?.[0]?.params, {
    action: 'remove',
    datacenter: 'old',
    keyspaces: ['shop', 'legacy'],
  });
  const phase = document.phases.at(-1)!;
  assert.equal(phase.approval, true);
  assert.equal(phase.steps?.length, 1);
  assert.equal(phase.steps?.[0]?.step, 'cassandra.decommission');
  assert.deepEqual(phase.steps?.[0]?.target, ['c1-10_0_0_1', 'c1-10_0_0_2', 'c1-10_0_0_3']);
  assert.equal(phase.steps?.[0]?.concurrency, 1);
  assert.equal(phase.rollback, undefined);
  assert.equal(
    cassandraMigrationPlanFile(extended, plan, { ...options, dropSourceDc: true }).phases.at(-1)?.name,
    'drop-source-dc',
    'no decommission phase unless asked for',
  );
  assert.throws(
    () => cassandraMigrationPlanFile(extended, plan, { ...options, decommissionSourceDc: true }),
    /decommissionSourceDc: got true, expected dropSourceDc too: old's nodes leave only once no keyspace replicates to it/,
  );
});

/**
 * Runs a pipelined step's items as agents would (each agent its items in order, one at a time; an
 * item starts once its `after` items are done) with the given durations; returns the most rebuilds
 * seen at once per source and per node, and whether everything finished.
 */
function simulatePipeline(
  items: Array<{ agent: string; source: string; after?: number[] }>,
  duration: (i: number) => number,
) {
  const done = new Map<number, number>(); // index -> finish time
  const next = new Map<string, number>(); // agent -> position in its own list
  const own = new Map<string, number[]>();
  items.forEach((item, i) => {
    own.set(item.agent, [...(own.get(item.agent) ?? []), i]);
  });
  const free = new Map<string, number>(); // agent -> time it is free
  const intervals: Array<{ i: number; start: number; end: number }> = [];
  for (let progress = true; progress; ) {
    progress = false;
    for (const [agent, list] of own) {
      const k = next.get(agent) ?? 0;
      const i = list[k];
      if (i === undefined) continue;
      const deps = items[i]!.after ?? [];
      if (!deps.every((j) => done.has(j))) continue;
      const start = Math.max(free.get(agent) ?? 0, ...deps.map((j) => done.get(j)!));
      const end = start + duration(i);
      done.set(i, end);
      free.set(agent, end);
      next.set(agent, k + 1);
      intervals.push({ i, start, end });
      progress = true;
    }
  }
  const most = (key: (i: number) => string) => {
    let max = 0;
    for (const a of intervals) {
      const at = intervals.filter((b) => key(b.i) === key(a.i) && b.start <= a.start && a.start < b.end).length;
      max = Math.max(max, at);
    }
    return max;
  };
  return {
    finished: done.size === items.length,
    perSource: most((i) => items[i]!.source),
    perNode: most((i) => items[i]!.agent),
    makespan: Math.max(...intervals.map((x) => x.end)),
  };
}

test('pipelined: the rebuild phase is one step; each item waits only for earlier items of its source; the cap holds whatever the durations', () => {
  const document = cassandraMigrationPlanFile(extended, plan, { ...options, pipeline: true });
  const steps = document.phases[2]?.steps ?? [];
  assert.equal(steps.length, 1);
  const items = (steps[0]!.params as { rebuilds: Array<{ agent: string; source: string; after?: number[] }> }).rebuilds;
  assert.equal(items.length, plan.order.flat().length);
  items.forEach((item, i) => {
    for (const j of item.after ?? []) {
      assert.ok(j < i, `item ${i} waits for ${j}`);
      assert.equal(items[j]!.source, item.source);
    }
  });
  assert.ok(items.some((i) => (i.after ?? []).length > 0));
  assert.doesNotThrow(() => parsePlanText(planFileYaml(document, 'generated'), 'generated.yaml'));
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let round = 0; round < 50; round++) {
    const durations = items.map(() => 1 + random() * 9);
    const run = simulatePipeline(items, (i) => durations[i]!);
    assert.equal(run.finished, true, 'no item waits forever');
    assert.ok(run.perSource <= plan.maxStreamsPerSource, `${run.perSource} rebuilds at once from one source`);
    assert.equal(run.perNode, 1);
  }
  // Refused by the step's schema: an item waiting for a later one (a cycle could follow).
  const bad = structuredClone(document);
  const badItems = (bad.phases[2]!.steps![0]!.params as { rebuilds: Array<{ after?: number[] }> }).rebuilds;
  badItems[0]!.after = [1];
  assert.throws(
    () => parsePlanText(planFileYaml(bad, 'generated'), 'generated.yaml'),
    /rebuilds\.0\.after\.0.*the index of an earlier item \(below 0\), got 1/s,
  );
});
