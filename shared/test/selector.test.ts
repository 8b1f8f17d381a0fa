import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError, matchesSelector, parseSelector } from '@drover/shared';

const labels = { cluster: 'kafka-a', role: 'broker', dc: 'use1', rack: '1a' };

test('equality, inequality, set membership and existence', () => {
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['cluster=kafka-a', true],
    ['cluster==kafka-a', true],
    ['cluster=kafka-b', false],
    ['cluster=kafka-a,role=broker', true],
    ['cluster=kafka-a, role=node', false],
    ['dc in (use1,usw2)', true],
    ['dc in (usw2)', false],
    ['dc notin (usw2, euw1)', true],
    ['rack!=1c', true],
    ['rack!=1a', false],
    ['zone!=x', true],
    ['role', true],
    ['!role', false],
    ['!zone', true],
    ['zone in (a)', false],
    ['zone notin (a)', true],
  ];
  for (const [text, expected] of cases) assert.equal(matchesSelector(parseSelector(text), labels), expected, text);
});

test('a bad selector names the part, the value and what was expected', () => {
  for (const bad of ['rack in (a', 'rack in ()', 'a=b=c', 'cluster=kafka a', ',', 'in (a,b)', 'dc in (a,,b)']) {
    assert.throws(
      () => parseSelector(bad),
      (error: unknown) =>
        error instanceof InvalidInputError && error.field === 'selector' && /expected/.test(error.message),
      bad,
    );
  }
});
