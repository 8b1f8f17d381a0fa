// kafka-reassign-partitions JSON: written for every phase and rollback, read back identically,
// and malformed documents refused with every problem named.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError, InvalidInputErrors } from '@drover/shared';
import {
  exportPhase,
  formatReassignmentJson,
  parseBrokerMap,
  parsePlanFile,
  parseReassignmentJson,
  planMigration,
  selectReassignments,
} from '../../src/kafka/index.ts';
import { loadFixture } from './helpers.ts';

const plan = planMigration(loadFixture('three-to-three.json'), {
  placement: { mode: 'map', map: parseBrokerMap('1=101,2=102,3=103') },
  perBrokerMoves: 2,
});
const reread = parsePlanFile(JSON.stringify(plan));

test('the format Kafka reads: version 1, one partition per line', () => {
  const text = formatReassignmentJson(exportPhase(reread, 'shrink'));
  assert.equal(
    text,
    '{"version":1,"partitions":[\n' +
      '{"topic":"__consumer_offsets","partition":0,"replicas":[102,103,101]},\n' +
      '{"topic":"orders","partition":0,"replicas":[101,102,103]},\n' +
      '{"topic":"orders","partition":1,"replicas":[102,103,101]},\n' +
      '{"topic":"orders","partition":2,"replicas":[103,101,102]}\n' +
      ']}\n',
  );
  assert.equal(formatReassignmentJson({ version: 1, partitions: [] }), '{"version":1,"partitions":[]}\n');
});

test('every phase and rollback round-trips through the text', () => {
  for (const selector of [
    'expand',
    'leaders',
    'shrink',
    'rollback-expand',
    'rollback-leaders',
    'rollback-shrink',
    'rollback-all',
  ]) {
    const doc = exportPhase(reread, selector);
    assert.ok(doc.partitions.length > 0, selector);
    assert.deepEqual(parseReassignmentJson(formatReassignmentJson(doc)), doc, selector);
  }
});

test('one batch of a phase; rollbacks go back to the state before the phase or the start', () => {
  assert.deepEqual(
    selectReassignments(reread, 'expand', 2).map((r) => `${r.topic}/${r.partition}`),
    ['orders/2', 'orders/0'],
  );
  assert.deepEqual(selectReassignments(reread, 'expand', 3), [], 'the closing batch moves nothing');
  assert.deepEqual(selectReassignments(reread, 'rollback-all'), selectReassignments(reread, 'rollback-expand'));
  assert.deepEqual(selectReassignments(reread, 'rollback-shrink')[1], {
    topic: 'orders',
    partition: 0,
    replicas: [101, 102, 103, 1, 2, 3],
  });
});

test('export refuses what it cannot do, naming the flag', () => {
  const field = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof InvalidInputError);
      return err.field;
    }
    return 'no error';
  };
  assert.equal(
    field(() => selectReassignments(reread, 'cleanup')),
    '--phase',
  );
  assert.equal(
    field(() => selectReassignments(reread, 'expand', 4)),
    '--batch',
  );
  assert.equal(
    field(() => selectReassignments(reread, 'rollback-leaders', 1)),
    '--batch',
  );
});

test('reads log_dirs and refuses malformed documents with every problem', () => {
  const doc = parseReassignmentJson(
    '{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2],"log_dirs":["any","/data/k"]}]}',
  );
  assert.deepEqual(doc.partitions[0]!.log_dirs, ['any', '/data/k']);
  assert.throws(
    () =>
      parseReassignmentJson(
        '{"version":2,"partitions":[{"topic":"","partition":-1,"replicas":[1,1]},{"topic":"t","partition":0,"replicas":[1],"log_dirs":["x"]},{"topic":"t","partition":0,"replicas":[]}]}',
      ),
    (err: unknown) => {
      assert.ok(err instanceof InvalidInputErrors);
      assert.deepEqual(
        err.problems.map((p) => p.field),
        [
          'reassignment.version',
          'reassignment.partitions[0].topic',
          'reassignment.partitions[0].partition',
          'reassignment.partitions[0].replicas',
          'reassignment.partitions[1].log_dirs',
          'reassignment.partitions[2].replicas',
          'reassignment.partitions[2]',
        ],
      );
      return true;
    },
  );
  assert.throws(() => parseReassignmentJson('not json'), /expected a JSON document/);
});

test('a malformed plan file is refused with the fields named', () => {
  assert.throws(
    () =>
      parsePlanFile(
        '{"mapping":{"bad":{}},"phases":[{"name":"grow","batches":[{"reassignments":[{"topic":1}]}],"rollback":{}}]}',
      ),
    (err: unknown) =>
      err instanceof InvalidInputErrors &&
      /--plan\.mapping: got "bad"/.test(err.message) &&
      /--plan\.phases\[0\]\.name: got "grow"/.test(err.message) &&
      /--plan\.phases\[0\]\.batches\[0\]\.reassignments\[0\]/.test(err.message) &&
      /--plan\.phases\[0\]\.rollback\.reassignments/.test(err.message),
  );
});
