// nodetool rebuild argv and the -ts length split.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '@drover/shared';
import { formatTokenRanges, rebuildArgv } from '../../src/cassandra/index.ts';
import { splitForArgv } from '../../src/cassandra/nodetool.ts';
import type { TokenRange } from '../../src/cassandra/types.ts';

test('argv: -ks one keyspace, -ts ranges, -s one host, -- then the source DC', () => {
  assert.deepEqual(
    rebuildArgv(
      'ks1',
      [
        ['-100', '0'],
        ['9223372036854775807', '-9223372036854775808'],
      ],
      '10.0.0.1',
      '-odd-dc',
    ),
    [
      'rebuild',
      '-ks',
      'ks1',
      '-ts',
      '(-100,0],(9223372036854775807,-9223372036854775808]',
      '-s',
      '10.0.0.1',
      '--',
      '-odd-dc',
    ],
  );
});

test('argv refuses what nodetool would misread', () => {
  assert.throws(() => rebuildArgv('a,b', [['1', '2']], 'h', 'dc'), InvalidInputError);
  assert.throws(() => rebuildArgv('ks', [], 'h', 'dc'), InvalidInputError);
  assert.throws(() => rebuildArgv('ks', [['1', '2']], 'h1,h2', 'dc'), InvalidInputError);
});

test('splitForArgv keeps order, keeps every range, and each -ts within the limit', () => {
  const ranges: TokenRange[] = Array.from({ length: 50 }, (_, i) => [String(i * 1000), String(i * 1000 + 999)]);
  for (const max of [11, 30, 100, 1000, 100_000]) {
    const groups = splitForArgv(ranges, max);
    assert.deepEqual(groups.flat(), ranges);
    for (const g of groups) assert.ok(formatTokenRanges(g).length <= max || g.length === 1);
  }
  assert.equal(splitForArgv(ranges, 100_000).length, 1);
});
