// Throttle config ops: only throttle keys, each on its kind of resource, refused before any request;
// runs of distinct (resource, key) in list order (compared with a naive reference on random lists).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_OP_KINDS, type ConfigOp, InvalidInputErrors, THROTTLE_CONFIG_KEYS } from '@drover/shared';
import fc from 'fast-check';
import {
  ConfigKeyNotAllowedError,
  checkConfigOps,
  splitConfigOps,
  THROTTLE_KEY_RESOURCE,
} from '../../../src/clients/kafka/index.ts';

const L = 'leader.replication.throttled.replicas';
const R = 'leader.replication.throttled.rate';

test('splitConfigOps: the worked example of its comment', () => {
  const ops: ConfigOp[] = [
    { resource: 'topic:a', op: 'SUBTRACT', key: L, value: '0:1' },
    { resource: 'broker:1', op: 'DELETE', key: R, value: null },
    { resource: 'topic:a', op: 'APPEND', key: L, value: '1:2' },
    { resource: 'broker:2', op: 'SET', key: R, value: '100' },
    { resource: 'broker:1', op: 'SET', key: R, value: '100' },
  ];
  assert.deepEqual(splitConfigOps(ops), [ops.slice(0, 2), ops.slice(2)]);
  assert.deepEqual(splitConfigOps([]), []);
});

const opArbitrary = fc.record({
  resource: fc.constantFrom('topic:a', 'topic:b', 'broker:1', 'broker:2'),
  op: fc.constantFrom(...CONFIG_OP_KINDS),
  key: fc.constantFrom(...THROTTLE_CONFIG_KEYS),
  value: fc.constant('1'),
});

/** Naive reference: walk the ops, start a new run whenever the current one already has the pair. */
function naiveRuns(ops: ConfigOp[]): number[] {
  const lengths: number[] = [];
  let current: string[] = [];
  for (const op of ops) {
    const pair = `${op.resource}|${op.key}`;
    if (current.includes(pair)) {
      lengths.push(current.length);
      current = [];
    }
    current.push(pair);
  }
  if (current.length > 0) lengths.push(current.length);
  return lengths;
}

test('splitConfigOps: order kept, no pair twice in a run, a run ends only where a pair repeats', () => {
  fc.assert(
    fc.property(fc.array(opArbitrary, { maxLength: 40 }), (ops) => {
      const runs = splitConfigOps(ops);
      assert.deepEqual(runs.flat(), ops);
      assert.deepEqual(
        runs.map((r) => r.length),
        naiveRuns(ops),
      );
      runs.forEach((run, i) => {
        const pairs = run.map((o) => `${o.resource}|${o.key}`);
        assert.equal(new Set(pairs).size, pairs.length);
        const next = runs[i + 1]?.[0];
        if (next) assert.ok(pairs.includes(`${next.resource}|${next.key}`), 'the next run starts with a repeat');
      });
    }),
    { numRuns: 300 },
  );
});

test('checkConfigOps: keys outside the throttle keys are refused, every one named', () => {
  assert.throws(
    () =>
      checkConfigOps([
        { resource: 'topic:a', op: 'SET', key: L, value: '0:1' },
        { resource: 'topic:a', op: 'SET', key: 'retention.ms', value: '1' },
        { resource: 'broker:1', op: 'SET', key: 'log.dirs', value: '/tmp' },
        { resource: 'broker:1', op: 'SET' },
      ]),
    (error: unknown) => {
      assert.ok(error instanceof ConfigKeyNotAllowedError);
      assert.deepEqual(error.refused, [
        { index: 1, resource: 'topic:a', key: 'retention.ms' },
        { index: 2, resource: 'broker:1', key: 'log.dirs' },
        { index: 3, resource: 'broker:1', key: 'undefined' },
      ]);
      assert.equal(error.retryable, false);
      assert.match(error.message, /refused: #1 topic:a "retention.ms", #2 broker:1 "log.dirs"/);
      return true;
    },
  );
});

test('checkConfigOps: the shared schema and the resource kind of each key', () => {
  assert.throws(
    () =>
      checkConfigOps([
        { resource: 'broker:1', op: 'SET', key: L, value: '0:1' },
        { resource: 'topic:a', op: 'SET', key: R, value: '100' },
      ]),
    (error: unknown) => {
      assert.ok(error instanceof InvalidInputErrors);
      assert.deepEqual(
        error.problems.map((p) => p.field),
        ['configOps[0].key', 'configOps[1].key'],
      );
      return true;
    },
  );
  assert.throws(() => checkConfigOps([{ resource: 'topic:a', op: 'DELETE', key: L, value: 'x' }]), {
    name: 'InvalidInputError',
    message: /configOps\[0\].*value null exactly when op is DELETE/,
  });
  assert.throws(() => checkConfigOps([{ resource: 'cluster', op: 'SET', key: R, value: '1' }]), {
    name: 'InvalidInputError',
  });
  assert.throws(() => checkConfigOps('SET' as unknown), { name: 'InvalidInputError' });
  const ok: ConfigOp[] = [{ resource: 'broker:7', op: 'SET', key: R, value: '100' }];
  assert.deepEqual(checkConfigOps(ok), ok);
});

test('THROTTLE_KEY_RESOURCE: every throttle key, lists on topics, rates on brokers', () => {
  assert.deepEqual(Object.keys(THROTTLE_KEY_RESOURCE).sort(), [...THROTTLE_CONFIG_KEYS].sort());
  for (const key of THROTTLE_CONFIG_KEYS) {
    assert.equal(THROTTLE_KEY_RESOURCE[key], key.endsWith('.replicas') ? 'topic' : 'broker');
  }
});
