// Dispatch and result latency: the order's issue time and the agent's reports arrive in any order,
// each pair is observed once, and redelivered reports are not counted again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyMatcher } from '../../src/serve/latency.ts';

test('issued first, then accepted and result', () => {
  const m = new LatencyMatcher();
  assert.deepEqual(m.issued('o1', 1000, 1000), []);
  assert.deepEqual(m.accepted('o1', 1040, 1050), [{ kind: 'dispatch', ms: 40 }]);
  assert.deepEqual(m.accepted('o1', 1040, 1060), [], 'a redelivered accepted event counts once');
  assert.deepEqual(m.result('o1', 3000, 3001), [{ kind: 'result', ms: 2000 }]);
  assert.equal(m.size, 0, 'a finished order is forgotten');
});

test('reports before the order is known wait for it', () => {
  const m = new LatencyMatcher();
  assert.deepEqual(m.accepted('o2', 1100, 1100), []);
  assert.deepEqual(m.result('o2', 1500, 1500), []);
  assert.deepEqual(m.issued('o2', 1000, 1600), [
    { kind: 'dispatch', ms: 100 },
    { kind: 'result', ms: 500 },
  ]);
  assert.deepEqual(m.issued('o2', 1000, 1700), [], 'the KV record seen again observes nothing');
});

test('halves that never meet are dropped after a while', () => {
  const m = new LatencyMatcher();
  m.accepted('lonely', 0, 0);
  m.issued('other', 0, 11 * 60_000);
  assert.equal(m.size, 1, 'only the fresh one is kept');
});
