// The operator's text forms (--throttle, --map) and option defaults/checks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError, InvalidInputErrors } from '@drover/shared';
import { parseBrokerMap, parseThrottle, resolvePlanOptions } from '../../src/kafka/index.ts';

test('throttle rates: decimal and binary units, bare bytes/s, optional /s', () => {
  assert.equal(parseThrottle('50MB/s'), 50_000_000);
  assert.equal(parseThrottle('10MiB/s'), 10 * 1024 * 1024);
  assert.equal(parseThrottle('1048576'), 1_048_576);
  assert.equal(parseThrottle('1.5GB/s'), 1_500_000_000);
  assert.equal(parseThrottle('500kB'), 500_000);
  assert.equal(parseThrottle('2GiB/s'), 2 * 1024 ** 3);
  assert.equal(parseThrottle(' 100 B/s '), 100);
});

test('bad throttle rates name the flag, the value and the accepted forms', () => {
  for (const bad of ['', 'fast', '50Mb/s', '-5MB/s', '0', '50 MB/min', '0.1B']) {
    assert.throws(
      () => parseThrottle(bad),
      (err: unknown) =>
        err instanceof InvalidInputError &&
        err.field === '--throttle' &&
        /50MB\/s, 10MiB\/s or 1048576/.test(err.message),
      bad,
    );
  }
});

test('broker maps parse entries and report every bad one', () => {
  assert.deepEqual(
    [...parseBrokerMap('1=101, 2 = 102,3=103')],
    [
      [1, 101],
      [2, 102],
      [3, 103],
    ],
  );
  assert.throws(
    () => parseBrokerMap('1=101,x=2,1=103,4'),
    (err: unknown) =>
      err instanceof InvalidInputErrors && err.problems.length === 3 && /mapped twice/.test(err.message),
  );
});

test('defaults are filled in and bad numbers refused', () => {
  const o = resolvePlanOptions({ placement: { mode: 'auto' } });
  assert.deepEqual(
    { ...o, placement: undefined },
    {
      placement: undefined,
      perBrokerMoves: 5,
      throttleBytesPerSec: 50_000_000,
      order: 'small-first',
      electionBatchMax: 1000,
      electionPerBrokerMax: 250,
    },
  );
  assert.throws(
    () => resolvePlanOptions({ placement: { mode: 'auto', rf: 0 }, perBrokerMoves: 1.5 }),
    (err: unknown) =>
      err instanceof InvalidInputErrors && /--rf: got 0/.test(err.message) && /--per-broker: got 1.5/.test(err.message),
  );
});
