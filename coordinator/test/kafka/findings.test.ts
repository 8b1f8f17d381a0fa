// Pre-flight findings: each condition the issue lists, on a hand-written cluster that has them all.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Cluster, parseBrokerMap, planMigration } from '../../src/kafka/index.ts';
import { loadFixture, makeCluster } from './helpers.ts';

test('the preflight fixture reports every problem, errors for what must stop the plan', () => {
  const plan = planMigration(loadFixture('preflight.json'), {
    placement: { mode: 'auto' },
    throttleBytesPerSec: 50_000_000,
  });
  const seen = plan.findings.map((f) => `${f.severity} ${f.code} ${f.subject}`);
  assert.deepEqual(seen, [
    'error under-replicated orders/0',
    'error offline orders/1',
    'error offline orders/1',
    'error under-replicated orders/1',
    'error reassignment-in-flight orders/2',
    'info sizes-unknown cluster',
    'warning static-throttle broker:1',
    'warning default-throttle broker:2',
    'warning existing-throttle broker:3',
    'warning existing-throttle topic:orders',
    'error missing-listener broker:102',
    'warning missing-rack broker:102',
    'warning listeners-unknown broker:103',
    'error throttle-below-inbound orders/2',
    'warning throttle-below-inbound broker:1',
  ]);
  const message = (code: string, subject: string) =>
    plan.findings.find((f) => f.code === code && f.subject === subject)!.message;
  assert.match(message('under-replicated', 'orders/0'), /ISR \[1,2\] of replicas \[1,2,3\] \(missing \[3\]\)/);
  assert.match(message('missing-listener', 'broker:102'), /missing listener SSL: clients would get LISTENER_NOT_FOUND/);
  assert.match(message('throttle-below-inbound', 'orders/2'), /below the 90000000 B\/s its 3 new replicas need/);
  assert.match(message('static-throttle', 'broker:1'), /cannot delete it/);
});

test('a throttle above every inbound rate and a healthy cluster give no errors', () => {
  const plan = planMigration(loadFixture('preflight.json'), {
    placement: { mode: 'auto' },
    throttleBytesPerSec: 200_000_000,
  });
  assert.ok(!plan.findings.some((f) => f.code === 'throttle-below-inbound'));
  const healthy = planMigration(loadFixture('two-az.json'), { placement: { mode: 'auto' } });
  assert.deepEqual(healthy.findings, []);
});

test('pre-existing dynamic throttles are deleted at clean-up even on brokers the plan does not touch', () => {
  const cluster: Cluster = makeCluster(
    [
      { id: 1, role: 'source' },
      { id: 101, role: 'destination' },
      { id: 102, role: 'destination' },
    ],
    { orders: [[1]], quiet: [[1]] },
  );
  cluster.brokers[2]!.throttles.push({
    name: 'follower.replication.throttled.rate',
    value: '1',
    source: 'DYNAMIC_BROKER_CONFIG',
  });
  cluster.brokers[0]!.throttles.push({
    name: 'leader.replication.throttled.rate',
    value: '1',
    source: 'STATIC_BROKER_CONFIG',
  });
  const plan = planMigration(cluster, { placement: { mode: 'map', map: parseBrokerMap('1=101') } });
  const cleanup = plan.phases[3]!.batches[0]!.configOps;
  assert.deepEqual(
    [...new Set(cleanup.map((op) => op.resource))],
    ['topic:orders', 'topic:quiet', 'broker:1', 'broker:101', 'broker:102'],
  );
  assert.ok(cleanup.every((op) => op.op === 'DELETE' && op.value === null));
  assert.deepEqual(
    plan.findings.filter((f) => f.severity === 'warning').map((f) => `${f.code} ${f.subject}`),
    ['static-throttle broker:1', 'existing-throttle broker:102'],
  );
});

test('a map that stacks two replicas in one rack is flagged', () => {
  const cluster = makeCluster(
    [
      { id: 1, rack: 'a', role: 'source' },
      { id: 2, rack: 'b', role: 'source' },
      { id: 101, rack: 'x', role: 'destination' },
      { id: 102, rack: 'x', role: 'destination' },
    ],
    { orders: [[1, 2]] },
  );
  const plan = planMigration(cluster, { placement: { mode: 'map', map: parseBrokerMap('1=101,2=102') } });
  assert.deepEqual(
    plan.findings.filter((f) => f.code === 'map-rack-collision').map((f) => f.severity),
    ['warning'],
  );
});
