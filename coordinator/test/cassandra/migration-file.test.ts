// The Cassandra migration plan file: valid for the plan loader (every step known, every param passing
// its step's schema), phases in the seed's order, every rebuild of the planner in exactly one wave
// step on its node's agent, the verify gate expecting exactly the planned ranges, rollbacks where one
// exists, and the topology extended the way cassandra.keyspaces-extend will extend it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRing, planRebuild } from '../../src/cassandra/index.ts';
import { cassandraMigrationPlanFile, extendedTopology } from '../../src/cassandra/migration-file.ts';
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

test('big waves are split into several steps under the params limit, nothing lost', () => {
  const document = cassandraMigrationPlanFile(extended, plan, { ...options, maxParamsBytes: 400 });
  const steps = document.phases[2]?.steps ?? [];
  assert.ok(steps.length > plan.order.length, `${steps.length} steps for ${plan.order.length} waves`);
  const items = steps.flatMap((s) => (s.params as { rebuilds: unknown[] }).rebuilds);
  assert.equal(items.length, plan.order.flat().length);
});
