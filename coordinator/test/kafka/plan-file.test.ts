// The plan file generated from a migration plan: valid for the plan loader (every step known, every
// param passing its step's schema), phases in the seed's order, everything cluster-wide on the
// delegate agent, gates on every data phase, rollbacks that cancel moves in flight first, and big
// phases split into steps without losing or reordering a batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planMigration } from '../../src/kafka/index.ts';
import { chunk, migrationPlanFile, planFileYaml } from '../../src/kafka/plan-file.ts';
import { parsePlanText } from '../../src/plan/load.ts';
import { loadFixture } from './helpers.ts';

const cluster = loadFixture('three-to-three.json');
const plan = planMigration(cluster, {
  placement: {
    mode: 'map',
    map: new Map([
      [1, 101],
      [2, 102],
      [3, 103],
    ]),
  },
});
const options = {
  name: 'kafka-a-move',
  cluster: 'kafka-a',
  delegate: 'kafka-a-101',
  destinationBrokers: [101, 102, 103],
};

test('the generated plan file loads: phases in order, steps on the delegate, gates and rollbacks', () => {
  const yaml = planFileYaml(
    migrationPlanFile(plan, { ...options, sourceAgents: 'cluster=kafka-a,role=source' }),
    'generated',
  );
  const { plan: loaded } = parsePlanText(yaml, 'generated.yaml');
  assert.deepEqual(
    loaded.phases.map((p) => p.name),
    ['preflight', 'expand', 'leaders', 'shrink', 'cleanup', 'repoint-clients', 'stop-source'],
  );
  const expand = loaded.phases[1];
  assert.equal(expand?.steps[0]?.step, 'kafka.reassign');
  assert.deepEqual(expand?.steps[0]?.target, { agents: ['kafka-a-101'] });
  assert.deepEqual(expand?.gate[0]?.expect, [{ field: 'ok', equals: true }]);
  const undo = expand?.rollback[0]?.params as {
    cancelInFlight: boolean;
    batches: Array<{ reassignments: unknown[]; configOps: unknown[] }>;
  };
  assert.equal(undo.cancelInFlight, true);
  assert.equal(undo.batches[0]?.reassignments.length, 4, 'every partition back to its source replicas');
  assert.ok((undo.batches[1]?.configOps.length ?? 0) > 0, 'and the throttles removed');
  assert.equal(loaded.phases[5]?.approval, true, 'clients are repointed by a person');
  assert.deepEqual(loaded.phases[4]?.gate[0]?.params, {
    noReassignments: true,
    fullIsr: true,
    onlyBrokers: [101, 102, 103],
    noThrottles: true,
    leadersPreferred: false,
  });
  assert.deepEqual(loaded.phases[6]?.steps[0]?.target, { selector: 'cluster=kafka-a,role=source' });
  assert.match(yaml, /^# generated\n/);
  assert.match(yaml, /\{ topic: orders, partition: \d, replicas: \[ [\d, ]+ \] \}/, 'reassignments on one line each');
});

test('a phase too big for one order is split into several steps, every batch once and in order', () => {
  const doc = migrationPlanFile(plan, { ...options, maxParamsBytes: 200 });
  const expand = doc.phases.find((p) => p.name === 'expand');
  const steps = expand?.steps ?? [];
  assert.ok(steps.length > 1, `split into ${steps.length} steps`);
  assert.match(steps[0]?.name ?? '', /^expand-1-of-\d+$/);
  const batches = steps.flatMap((s) => (s.params as { batches: unknown[] }).batches);
  const original = plan.phases[0]?.batches.filter(
    (b) => b.reassignments.length + b.configOps.length + b.elections.length > 0,
  );
  assert.deepEqual(batches, original);
  assert.deepEqual(chunk([], 10), []);
});

test('observers on an ensemble without reconfigEnabled: the voters restart one at a time first, join static, rollback removes the lines', () => {
  const ensemble = [
    { id: 1, host: 'zk-1', clientPort: 2181, quorumPort: 2888, electionPort: 3888 },
    { id: 2, host: 'zk-2', clientPort: 2181, quorumPort: 2888, electionPort: 3888 },
  ];
  const servers = [{ id: 11, host: 'zk-11', clientPort: 2181, quorumPort: 2888, electionPort: 3888 }];
  const doc = migrationPlanFile(plan, {
    ...options,
    observers: {
      agents: 'cluster=kafka-a,role=zk-observer',
      ensemble,
      method: 'static',
      voterAgents: 'cluster=kafka-a,role=zk-voter',
      servers,
    },
  });
  const { plan: loaded } = parsePlanText(planFileYaml(doc, 'static'), 'static.yaml');
  const observers = loaded.phases.find((p) => p.name === 'observers');
  assert.deepEqual(
    observers?.steps.map((s) => `${s.step}@${'selector' in s.target ? s.target.selector : ''}`),
    [
      'zookeeper.voters-add-observers@cluster=kafka-a,role=zk-voter',
      'zookeeper.observer-join@cluster=kafka-a,role=zk-observer',
    ],
  );
  assert.deepEqual(observers?.steps[0]?.options.concurrency, { count: 1 }, 'one voter at a time');
  assert.deepEqual(observers?.steps[0]?.params, { action: 'add', observers: servers, serveTimeoutMs: 120_000 });
  assert.equal((observers?.steps[1]?.params as { method?: string } | undefined)?.method, 'static', 'no reconfig -add');
  assert.deepEqual(
    observers?.rollback.map((s) => `${s.step}:${JSON.stringify((s.params as { action?: string }).action)}`),
    ['service:"stop"', 'zookeeper.voters-add-observers:"remove"'],
  );
  assert.deepEqual(observers?.rollback[1]?.options.concurrency, { count: 1 });
  assert.throws(
    () => migrationPlanFile(plan, { ...options, observers: { agents: 'a=b', ensemble, method: 'static' } }),
    /voterAgents and servers/,
  );
});

test('without source agents there is no stop-source phase', () => {
  const doc = migrationPlanFile(plan, options);
  assert.equal(doc.phases.at(-1)?.name, 'repoint-clients');
});

test("with observers and destination agents: the seed's order, observers in sync before brokers start", () => {
  const ensemble = [
    { id: 1, host: 'zk-1', clientPort: 2181, quorumPort: 2888, electionPort: 3888 },
    { id: 2, host: 'zk-2', clientPort: 2181, quorumPort: 2888, electionPort: 3888 },
  ];
  const doc = migrationPlanFile(plan, {
    ...options,
    observers: { agents: 'cluster=kafka-a,role=zk-observer', ensemble },
    destinationAgents: 'cluster=kafka-a,role=destination',
    sourceAgents: 'cluster=kafka-a,role=source',
  });
  const { plan: loaded } = parsePlanText(planFileYaml(doc, 'full'), 'full.yaml');
  assert.deepEqual(
    loaded.phases.map((p) => p.name),
    ['preflight', 'observers', 'brokers', 'expand', 'leaders', 'shrink', 'cleanup', 'repoint-clients', 'stop-source'],
  );
  const observers = loaded.phases[1];
  assert.equal(observers?.steps[0]?.step, 'zookeeper.observer-join');
  assert.deepEqual(
    observers?.rollback.map((s) => s.step),
    ['zookeeper.observer-leave'],
    'the rollback removes the observers by reconfig -remove',
  );
  assert.deepEqual(observers?.rollback[0]?.params, { ensemble, method: 'reconfig' });
  assert.deepEqual(observers?.gate[0]?.params, {
    voters: [
      { host: 'zk-1', clientPort: 2181 },
      { host: 'zk-2', clientPort: 2181 },
    ],
    settleMs: 10_000,
  });
  const brokers = loaded.phases[2];
  assert.deepEqual(
    brokers?.steps.map((s) => s.step),
    ['kafka.broker-configure', 'service'],
  );
  assert.deepEqual(brokers?.steps[1]?.options.concurrency, { count: 1 }, 'brokers start one at a time');
  assert.deepEqual((brokers?.gate[0]?.params as { brokers?: number[] } | undefined)?.brokers, [101, 102, 103]);
});
