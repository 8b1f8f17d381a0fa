// The Cassandra client's pure parts: token-range coverage (wrapping ranges included), the range blobs
// of system.available_ranges_v2, nodetool's status output and its error line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  coveredBy,
  decodeRangeBlob,
  nodetoolErrorText,
  parseStatus,
  rangeText,
  tokenRangesArgument,
} from '../../../src/clients/cassandra/index.ts';

const MAX = (2n ** 63n - 1n).toString();
const MIN = (-(2n ** 63n)).toString();

test('a range is covered by an equal range, by a larger one, and by adjacent pieces together', () => {
  assert.equal(coveredBy(['10', '20'], [['10', '20']]), true);
  assert.equal(coveredBy(['12', '18'], [['10', '20']]), true);
  assert.equal(
    coveredBy(
      ['10', '30'],
      [
        ['10', '20'],
        ['20', '30'],
      ],
    ),
    true,
  );
  assert.equal(
    coveredBy(
      ['10', '30'],
      [
        ['10', '20'],
        ['21', '30'],
      ],
    ),
    false,
    'a gap (20,21] is not covered',
  );
  assert.equal(coveredBy(['5', '20'], [['10', '20']]), false);
});

test('wrapping ranges: (s, e] with s >= e covers the top and the bottom of the ring', () => {
  assert.equal(coveredBy(['100', '-100'], [['100', '-100']]), true);
  assert.equal(
    coveredBy(
      ['100', '-100'],
      [
        ['100', MAX],
        [MIN, '-100'],
      ],
    ),
    true,
  );
  assert.equal(coveredBy(['200', '-200'], [['100', '-100']]), true);
  assert.equal(coveredBy(['100', '-100'], [['100', MAX]]), false, 'the bottom piece is missing');
  assert.equal(coveredBy(['1', '2'], [['5', '5']]), true, '(t, t] is the whole ring');
});

test('range blobs decode to the two tokens; texts and -ts arguments are canonical', () => {
  // Lay the last 20 bytes out exactly: [int32 8][int64 left][int32 8][int64 right]
  const exact = Buffer.alloc(29);
  exact.writeInt32BE(8, 5);
  exact.writeBigInt64BE(-5n, 9);
  exact.writeInt32BE(8, 17);
  exact.writeBigInt64BE(7n, 21);
  assert.deepEqual(decodeRangeBlob(exact), ['-5', '7']);
  assert.throws(() => decodeRangeBlob(Buffer.alloc(10)), /at least 20/);
  assert.equal(rangeText(['007', '-0']), '(7,0]');
  assert.equal(
    tokenRangesArgument([
      ['1', '2'],
      ['3', '4'],
    ]),
    '(1,2],(3,4]',
  );
});

test('nodetool status: datacenters, up/down, state and rack per node', () => {
  const out = `Datacenter: old
===============
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address     Load        Tokens  Owns (effective)  Host ID                               Rack
UN  127.0.1.2   120.5 KiB   4       ?                 4e3f…                                 r1
DN  127.0.1.3   98 KiB      4       ?                 5a1b…                                 r2
Datacenter: new
===============
UJ  127.0.1.5   1.2 MiB     4       ?                 77aa…                                 r1
`;
  assert.deepEqual(parseStatus(out), [
    { address: '127.0.1.2', datacenter: 'old', up: true, state: 'N', rack: 'r1' },
    { address: '127.0.1.3', datacenter: 'old', up: false, state: 'N', rack: 'r2' },
    { address: '127.0.1.5', datacenter: 'new', up: true, state: 'J', rack: 'r1' },
  ]);
});

test("nodetool's error line is Cassandra's own words", () => {
  assert.equal(
    nodetoolErrorText(
      '',
      'error: Node is still rebuilding. Check nodetool netstats.\n-- StackTrace --\njava.lang.IllegalStateException',
    ),
    'Node is still rebuilding. Check nodetool netstats.',
  );
  assert.equal(
    nodetoolErrorText('', 'nodetool: Failed to connect to 127.0.0.1:7199'),
    'nodetool: Failed to connect to 127.0.0.1:7199',
  );
});
