import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError, InvalidInputErrors, orderSubject, stepNames, validateStepParams } from '@drover/shared';

test('the catalog holds the allow-listed steps, and nothing else', () => {
  assert.deepEqual(stepNames(), [
    'ping',
    'facts',
    'sleep',
    'command',
    'service',
    'kafka.describe',
    'kafka.verify',
    'kafka.reassign',
    'kafka.elect-leaders',
    'kafka.broker-configure',
    'zookeeper.observer-join',
    'zookeeper.observer-verify',
    'zookeeper.observer-leave',
    'zookeeper.voters-add-observers',
    'zookeeper.clean',
    'zookeeper.restore',
    'cassandra.describe',
    'cassandra.node-prepare',
    'cassandra.keyspaces-extend',
    'cassandra.rebuild',
    'cassandra.rebuild-verify',
    'cassandra.status',
    'cassandra.decommission',
    'cassandra.node-wipe',
  ]);
});

test('unknown step: names the field, the value and the allowed steps', () => {
  assert.throws(
    () => validateStepParams('rm', {}),
    (e: unknown) =>
      e instanceof InvalidInputError &&
      e.field === 'step' &&
      e.message ===
        'step: got "rm", expected one of ping, facts, sleep, command, service, kafka.describe, kafka.verify, kafka.reassign, kafka.elect-leaders, kafka.broker-configure, zookeeper.observer-join, zookeeper.observer-verify, zookeeper.observer-leave, zookeeper.voters-add-observers, zookeeper.clean, zookeeper.restore, cassandra.describe, cassandra.node-prepare, cassandra.keyspaces-extend, cassandra.rebuild, cassandra.rebuild-verify, cassandra.status, cassandra.decommission, cassandra.node-wipe',
  );
});

test('bad parameters are all reported with their path', () => {
  assert.throws(
    () => validateStepParams('sleep', { seconds: 'ten', shell: 'rm -rf /' }),
    (e: unknown) =>
      e instanceof InvalidInputErrors &&
      e.problems.some((p) => p.field === 'params.seconds') &&
      e.problems.some((p) => /shell not allowed/.test(p.message)),
  );
  assert.deepEqual(validateStepParams('sleep', { seconds: 1.5 }), { seconds: 1.5 });
  assert.deepEqual(validateStepParams('command', { name: 'restart-kafka' }), { name: 'restart-kafka', args: {} });
  assert.throws(() => validateStepParams('command', { name: '../../bin/sh' }), InvalidInputErrors);
});

test('subjects refuse tokens that would widen a subscription', () => {
  assert.equal(orderSubject('kafka-a-1'), 'drover.order.kafka-a-1');
  for (const bad of ['*', '>', 'a.b', '', 'a b', '_x']) assert.throws(() => orderSubject(bad), InvalidInputError, bad);
});
