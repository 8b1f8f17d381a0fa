// The wave scheduler: one rebuild per node per wave, at most the cap per source, every rebuild once,
// and close to the lower bound max(rebuilds of a node, ceil(rebuilds of a source / cap)).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { scheduleWaves } from '../../src/cassandra/schedule.ts';

interface ScheduleItem {
  node: number;
  source: number;
}

const input = (items: ScheduleItem[]) => ({
  node: Int32Array.from(items, (i) => i.node),
  source: Int32Array.from(items, (i) => i.source),
});

function check(items: ScheduleItem[], cap: number): number[][] {
  const waves = scheduleWaves(input(items), cap);
  assert.deepEqual(
    waves.flat().sort((a, b) => a - b),
    items.map((_, i) => i),
  );
  for (const wave of waves) {
    assert.ok(wave.length > 0);
    assert.equal(new Set(wave.map((i) => items[i]!.node)).size, wave.length);
    const perSource = new Map<number, number>();
    for (const i of wave) perSource.set(items[i]!.source, (perSource.get(items[i]!.source) ?? 0) + 1);
    assert.ok(Math.max(...perSource.values()) <= cap);
  }
  return waves;
}

function lowerBound(items: ScheduleItem[], cap: number): number {
  const count = (key: (i: ScheduleItem) => number) => {
    const m = new Map<number, number>();
    for (const item of items) m.set(key(item), (m.get(key(item)) ?? 0) + 1);
    return [...m.values()];
  };
  return Math.max(0, ...count((i) => i.node), ...count((i) => i.source).map((n) => Math.ceil(n / cap)));
}

test('every node copying every source: waves meet the lower bound thanks to the rotation', () => {
  for (const [nodes, sources, cap] of [
    [3, 3, 1],
    [10, 10, 1],
    [10, 10, 2],
    [20, 10, 2],
    [10, 20, 1],
  ] as const) {
    const items: ScheduleItem[] = [];
    for (let n = 0; n < nodes; n++) for (let s = 0; s < sources; s++) items.push({ node: n, source: 100 + s });
    assert.equal(check(items, cap).length, lowerBound(items, cap), `${nodes}x${sources} cap ${cap}`);
  }
});

test('random rebuild sets: constraints hold and waves stay within 1.5x of the lower bound + 1', () => {
  const itemsArb = fc
    .array(fc.tuple(fc.nat({ max: 8 }), fc.nat({ max: 8 })), { minLength: 1, maxLength: 60 })
    .map((pairs) => pairs.map(([node, source]) => ({ node, source: 100 + source })));
  fc.assert(
    fc.property(itemsArb, fc.integer({ min: 1, max: 3 }), (items, cap) => {
      const waves = check(items, cap);
      assert.ok(waves.length <= Math.ceil(lowerBound(items, cap) * 1.5) + 1, `${waves.length} waves`);
    }),
    { numRuns: 200 },
  );
});

test('nothing to schedule', () => {
  assert.deepEqual(scheduleWaves(input([]), 2), []);
});
