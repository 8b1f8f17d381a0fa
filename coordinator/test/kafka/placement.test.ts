// Placement errors the operator can cause: every one names the flag, the value and the expectation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputErrors } from '@drover/shared';
import { parseBrokerMap, planMigration } from '../../src/kafka/index.ts';
import { loadFixture } from './helpers.ts';

const cluster = loadFixture('three-to-three.json');
const withMap = (text: string) => () =>
  planMigration(cluster, { placement: { mode: 'map', map: parseBrokerMap(text) } });
const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InvalidInputErrors, String(err));
    return err.problems.map((p) => p.message);
  }
  assert.fail('expected InvalidInputErrors');
};

test('a --map entry naming an unknown broker', () => {
  assert.deepEqual(problems(withMap('1=101,2=102,3=999')), [
    '--map: got "3=999", expected a destination broker id from the cluster file (no broker 999)',
  ]);
  assert.deepEqual(problems(withMap('1=101,2=102,3=103,9=101')).slice(0, 1), [
    '--map: got "9=101", expected a source broker id from the cluster file (no broker 9)',
  ]);
});

test('a --map with the roles the wrong way round, or a destination used twice', () => {
  assert.match(
    problems(withMap('1=101,2=102,101=103'))[0]!,
    /role "source" or "both" on the left \(101 is a destination\)/,
  );
  assert.match(problems(withMap('1=101,2=3,3=103'))[0]!, /role "destination" or "both" on the right \(3 is a source\)/);
  assert.match(problems(withMap('1=101,2=101,3=103'))[0]!, /each destination used once \(1=101 too\)/);
});

test('a --map that leaves a source broker holding replicas unmapped', () => {
  assert.deepEqual(problems(withMap('1=101,2=102')), [
    '--map: got "1=101,2=102", expected an entry for source broker 3 (it holds replicas)',
  ]);
});

test('an RF override larger than the destination brokers', () => {
  assert.deepEqual(
    problems(() => planMigration(cluster, { placement: { mode: 'auto', rf: 4 } })),
    ['--rf: got 4, expected at most 3 (the destination brokers)'],
  );
});

test('partitions whose RF exceeds the destination brokers, without an override', () => {
  const small = loadFixture('six-to-three.json');
  small.brokers = small.brokers.filter((b) => b.id !== 103);
  assert.match(
    problems(() => planMigration(small, { placement: { mode: 'auto' } }))[0]!,
    /cluster\.brokers: got "2 destination brokers", expected at least 3 \(the RF of clicks\/0\), or a lower --rf/,
  );
});
