import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '@drover/shared';
import {
  type AgentView,
  groupTargets,
  parseCountOrPercent,
  parseDurationMs,
  redactParams,
  resolveCount,
} from '../../src/engine/index.ts';

test('counts and percentages resolve against the number of targets, rounding up', () => {
  assert.equal(resolveCount(parseCountOrPercent('--concurrency', '10'), 2129), 10);
  assert.equal(resolveCount(parseCountOrPercent('--concurrency', '10%'), 2129), 213);
  assert.equal(resolveCount(parseCountOrPercent('--concurrency', '10%'), 5), 1);
  assert.equal(resolveCount(parseCountOrPercent('--max-errors', '0'), 50), 0);
  for (const bad of ['abc', '-1', '150%', '1.5', '']) {
    assert.throws(
      () => parseCountOrPercent('--max-errors', bad),
      (e: unknown) => e instanceof InvalidInputError && e.field === '--max-errors',
      bad,
    );
  }
});

test('durations', () => {
  assert.equal(parseDurationMs('--timeout', '500ms'), 500);
  assert.equal(parseDurationMs('--timeout', '30'), 30_000);
  assert.equal(parseDurationMs('--timeout', '5m'), 300_000);
  assert.equal(parseDurationMs('--timeout', '1.5h'), 5_400_000);
  for (const bad of ['0', '5 minutes', 'soon', '-1s'])
    assert.throws(() => parseDurationMs('--timeout', bad), InvalidInputError, bad);
});

test('serial-by groups are sorted by label value, agents without the label last', () => {
  const agent = (id: string, labels: Record<string, string>) => ({ id, labels }) as AgentView;
  const groups = groupTargets(
    [agent('a', { rack: '1b' }), agent('b', {}), agent('c', { rack: '1a' }), agent('d', { rack: '1b' })],
    'rack',
  );
  assert.deepEqual(groups, [
    { key: 'rack=1a', agents: ['c'] },
    { key: 'rack=1b', agents: ['a', 'd'] },
    { key: 'rack=(none)', agents: ['b'] },
  ]);
  assert.deepEqual(groupTargets([agent('a', {})], undefined), [{ key: '*', agents: ['a'] }]);
});

test('secrets are redacted from audit copies of parameters', () => {
  assert.deepEqual(redactParams({ name: 'x', args: { password: 'hunter2', unit: 'kafka', apiToken: 't' } }), {
    name: 'x',
    args: { password: '***', unit: 'kafka', apiToken: '***' },
  });
  assert.deepEqual(redactParams({ keyspace: 'shop', keyspaces: ['a'], apiKey: 'k', key: 'k', privateKeyPem: 'p' }), {
    keyspace: 'shop',
    keyspaces: ['a'],
    apiKey: '***',
    key: '***',
    privateKeyPem: '***',
  });
});
