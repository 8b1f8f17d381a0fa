// ElectLeaders v0 against bytes recorded from Kafka 3.9.2: the request encodes byte for byte, the
// response decodes completely, and parse types each partition's error (ELECTION_NOT_NEEDED = success).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reader } from '@platformatic/kafka';
import { encode } from '../../../../src/clients/kafka-protocol/elect-leaders/v0/request.ts';
import { decode, parse } from '../../../../src/clients/kafka-protocol/elect-leaders/v0/response.ts';
import {
  ELECTION_TYPES,
  KafkaPartitionError,
  UnknownTopicOrPartitionError,
} from '../../../../src/clients/kafka-protocol/index.ts';
import { requestFixture, responseReader } from './fixtures.ts';

test('v0 request: the recorded bytes', () => {
  const { request, bytes } = requestFixture('v0');
  assert.deepEqual(request.topicPartitions, [{ topic: 'elect', partitions: [0, 1, 9] }]);
  assert.equal(encode(request).buffer.toString('hex'), bytes.toString('hex'));
});

test('v0 request: null topic partitions encode as a null array (-1), other election types are refused', () => {
  const all = encode({ electionType: ELECTION_TYPES.PREFERRED, topicPartitions: null, timeoutMs: 1000 });
  assert.equal(all.buffer.toString('hex'), 'ffffffff' + '000003e8');
  assert.throws(
    () => encode({ electionType: ELECTION_TYPES.UNCLEAN, topicPartitions: [], timeoutMs: 1000 }),
    /only elects preferred replicas/,
  );
});

test('v0 response: decoded completely', () => {
  const reader = responseReader('v0');
  assert.deepEqual(decode(reader), {
    throttleTimeMs: 0,
    errorCode: 0,
    replicaElectionResults: [
      {
        topic: 'elect',
        partitionResult: [
          { partitionId: 0, errorCode: 0, errorMessage: null },
          { partitionId: 9, errorCode: 3, errorMessage: 'The partition does not exist.' },
          { partitionId: 1, errorCode: 84, errorMessage: 'Leader election not needed for topic partition.' },
        ],
      },
    ],
  });
  assert.equal(reader.remaining, 0);
});

test('v0 parse: elected, unknown partition typed, ELECTION_NOT_NEEDED is success', () => {
  const results = parse(decode(responseReader('v0')));
  assert.deepEqual(
    results.map((r) => [r.topic, r.partition, r.electionNeeded, r.error?.name ?? null]),
    [
      ['elect', 0, true, null],
      ['elect', 9, false, 'UnknownTopicOrPartitionError'],
      ['elect', 1, false, null],
    ],
  );
  const error = results[1]?.error;
  assert.ok(error instanceof UnknownTopicOrPartitionError && error instanceof KafkaPartitionError);
  assert.equal(error.code, 3);
  assert.equal(error.kafkaName, 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(error.serverMessage, 'The partition does not exist.');
  assert.equal(error.api, 'ElectLeaders');
  assert.equal(error.retryable, true);
  assert.equal(error.message, 'ElectLeaders elect-9: UNKNOWN_TOPIC_OR_PARTITION (3): The partition does not exist.');
});

test('v0 response: an empty result list', () => {
  assert.deepEqual(parse(decode(Reader.from(Buffer.from('0000000a00000000', 'hex')))), []);
});
