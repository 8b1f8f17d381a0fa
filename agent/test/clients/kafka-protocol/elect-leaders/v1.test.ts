// ElectLeaders v1 against bytes recorded from Kafka 3.9.2, plus its top-level error code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reader, Writer } from '@platformatic/kafka';
import { encode } from '../../../../src/clients/kafka-protocol/elect-leaders/v1/request.ts';
import { decode, parse } from '../../../../src/clients/kafka-protocol/elect-leaders/v1/response.ts';
import { ELECTION_TYPES, KafkaRequestError } from '../../../../src/clients/kafka-protocol/index.ts';
import { requestFixture, responseReader } from './fixtures.ts';

test('v1 request: the recorded bytes (election type first)', () => {
  const { request, bytes } = requestFixture('v1');
  assert.deepEqual(request, {
    electionType: 0,
    topicPartitions: [{ topic: 'elect', partitions: [1, 2, 9] }],
    timeoutMs: 30_000,
  });
  assert.equal(encode(request).buffer.toString('hex'), bytes.toString('hex'));
  const unclean = encode({ ...request, electionType: ELECTION_TYPES.UNCLEAN }).buffer;
  assert.equal(unclean[0], 1);
  assert.equal(unclean.subarray(1).toString('hex'), bytes.subarray(1).toString('hex'));
});

test('v1 response: decoded completely', () => {
  const reader = responseReader('v1');
  assert.deepEqual(decode(reader), {
    throttleTimeMs: 0,
    errorCode: 0,
    replicaElectionResults: [
      {
        topic: 'elect',
        partitionResult: [
          { partitionId: 9, errorCode: 3, errorMessage: 'The partition does not exist.' },
          { partitionId: 1, errorCode: 0, errorMessage: null },
          { partitionId: 2, errorCode: 84, errorMessage: 'Leader election not needed for topic partition.' },
        ],
      },
    ],
  });
  assert.equal(reader.remaining, 0);
  assert.deepEqual(
    parse(decode(responseReader('v1'))).map((r) => [r.partition, r.electionNeeded, r.error?.name ?? null]),
    [
      [9, false, 'UnknownTopicOrPartitionError'],
      [1, true, null],
      [2, false, null],
    ],
  );
});

test('v1 response: a top-level error code fails the whole request (built by hand, not recorded)', () => {
  // throttle 0, error 31 (CLUSTER_AUTHORIZATION_FAILED), no results: what an unauthorized client gets.
  const bytes = Writer.create().appendInt32(0).appendInt16(31).appendInt32(0).buffer;
  const response = decode(Reader.from(bytes));
  assert.equal(response.errorCode, 31);
  assert.throws(
    () => parse(response),
    (error: unknown) => {
      assert.ok(error instanceof KafkaRequestError);
      assert.equal(error.kafkaName, 'CLUSTER_AUTHORIZATION_FAILED');
      assert.equal(error.retryable, false);
      return true;
    },
  );
});
