// ElectLeaders v2 (the flexible version: compact strings/arrays, tagged fields) against bytes recorded
// from Kafka 3.9.2, including the answer of a broker that is not the controller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reader, Writer } from '@platformatic/kafka';
import { encode } from '../../../../src/clients/kafka-protocol/elect-leaders/v2/request.ts';
import { decode, parse } from '../../../../src/clients/kafka-protocol/elect-leaders/v2/response.ts';
import { ELECTION_TYPES, KafkaRequestError, NotControllerError } from '../../../../src/clients/kafka-protocol/index.ts';
import { requestFixture, responseReader } from './fixtures.ts';

test('v2 request: the recorded bytes', () => {
  for (const name of ['v2', 'v2_not_controller']) {
    const { request, bytes } = requestFixture(name);
    assert.equal(encode(request).buffer.toString('hex'), bytes.toString('hex'), name);
  }
});

test('v2 request: compact encodings (length + 1, null = 0) and tagged-field buffers', () => {
  const all = encode({ electionType: ELECTION_TYPES.PREFERRED, topicPartitions: null, timeoutMs: 1000 });
  assert.equal(all.buffer.toString('hex'), '00' + '00' + '000003e8' + '00');
  const one = encode({
    electionType: ELECTION_TYPES.PREFERRED,
    topicPartitions: [{ topic: 'a', partitions: [] }],
    timeoutMs: 1000,
  });
  // type, 1 topic (2), "a" (len 2), 0 partitions (1), topic tags, timeout, request tags
  assert.equal(one.buffer.toString('hex'), '00' + '02' + '0261' + '01' + '00' + '000003e8' + '00');
});

test('v2 response: decoded completely', () => {
  const reader = responseReader('v2');
  assert.deepEqual(decode(reader), {
    throttleTimeMs: 0,
    errorCode: 0,
    replicaElectionResults: [
      {
        topic: 'elect',
        partitionResult: [
          { partitionId: 0, errorCode: 84, errorMessage: 'Leader election not needed for topic partition.' },
          { partitionId: 9, errorCode: 3, errorMessage: 'The partition does not exist.' },
          { partitionId: 2, errorCode: 0, errorMessage: null },
        ],
      },
    ],
  });
  assert.equal(reader.remaining, 0);
  assert.deepEqual(
    parse(decode(responseReader('v2'))).map((r) => [r.partition, r.electionNeeded, r.error?.kafkaName ?? null]),
    [
      [0, false, null],
      [9, false, 'UNKNOWN_TOPIC_OR_PARTITION'],
      [2, true, null],
    ],
  );
});

test('v2 response of a broker that is not the controller: NOT_CONTROLLER per partition, retryable', () => {
  const reader = responseReader('v2_not_controller');
  const results = parse(decode(reader));
  assert.equal(reader.remaining, 0);
  assert.deepEqual(
    results.map((r) => [r.partition, r.electionNeeded]),
    [
      [0, false],
      [1, false],
    ],
  );
  for (const r of results) {
    assert.ok(r.error instanceof NotControllerError);
    assert.equal(r.error.retryable, true);
    assert.equal(r.error.serverMessage, null);
  }
});

test('v2 response: tagged fields the client does not know are skipped (built by hand, not recorded)', () => {
  const tag = (w: Writer) => w.appendUnsignedVarInt(1).appendUnsignedVarInt(7).appendUnsignedVarInt(2).appendInt16(-1);
  const w = Writer.create().appendInt32(5).appendInt16(0);
  w.appendUnsignedVarInt(2).appendString('t', true).appendUnsignedVarInt(2);
  w.appendInt32(3).appendInt16(0).appendString(null, true);
  tag(w); // partition tags
  tag(w); // topic tags
  tag(w); // response tags
  const reader = Reader.from(w.buffer);
  assert.deepEqual(decode(reader), {
    throttleTimeMs: 5,
    errorCode: 0,
    replicaElectionResults: [{ topic: 't', partitionResult: [{ partitionId: 3, errorCode: 0, errorMessage: null }] }],
  });
  assert.equal(reader.remaining, 0);
});

test('v2 response: a top-level error code fails the whole request (built by hand, not recorded)', () => {
  const bytes = Writer.create().appendInt32(0).appendInt16(41).appendUnsignedVarInt(1).appendUnsignedVarInt(0).buffer;
  assert.throws(() => parse(decode(Reader.from(bytes))), KafkaRequestError);
});
