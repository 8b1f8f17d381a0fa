// Kafka's error codes as typed errors: the class per failure kind, Kafka's name and retriability.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DroverError } from '@drover/shared';
import {
  InvalidReplicaAssignmentError,
  KAFKA_ERROR_CODES,
  KafkaPartitionError,
  KafkaRequestError,
  KafkaResourceError,
  kafkaErrorDefinition,
  NoReassignmentInProgressError,
  NotControllerError,
  PreferredLeaderNotAvailableError,
  partitionError,
  ReassignmentInProgressError,
  UnknownTopicOrPartitionError,
} from '../../../src/clients/kafka-protocol/index.ts';

test("kafkaErrorDefinition: Kafka's names and retriability, unknown codes named as such", () => {
  assert.deepEqual(
    [41, 84, 85, 39].map((code) => {
      const d = kafkaErrorDefinition(code);
      return [d.code, d.name, d.retryable];
    }),
    [
      [41, 'NOT_CONTROLLER', true],
      [84, 'ELECTION_NOT_NEEDED', true],
      [85, 'NO_REASSIGNMENT_IN_PROGRESS', false],
      [39, 'INVALID_REPLICA_ASSIGNMENT', false],
    ],
  );
  for (const [name, code] of Object.entries(KAFKA_ERROR_CODES)) {
    assert.equal(kafkaErrorDefinition(code).name, name);
  }
  assert.deepEqual(kafkaErrorDefinition(9999), {
    code: 9999,
    name: 'UNKNOWN_ERROR_CODE_9999',
    retryable: false,
    description: 'an error code this client does not know',
  });
});

test('partitionError: one class per failure kind, KafkaPartitionError otherwise', () => {
  const cases: [number, new (...args: never[]) => KafkaPartitionError, string][] = [
    [3, UnknownTopicOrPartitionError, 'UnknownTopicOrPartitionError'],
    [39, InvalidReplicaAssignmentError, 'InvalidReplicaAssignmentError'],
    [41, NotControllerError, 'NotControllerError'],
    [60, ReassignmentInProgressError, 'ReassignmentInProgressError'],
    [80, PreferredLeaderNotAvailableError, 'PreferredLeaderNotAvailableError'],
    [85, NoReassignmentInProgressError, 'NoReassignmentInProgressError'],
    [7, KafkaPartitionError, 'KafkaPartitionError'],
  ];
  for (const [code, ErrorClass, name] of cases) {
    const error = partitionError({
      api: 'AlterPartitionReassignments',
      topic: 't',
      partition: 2,
      code,
      serverMessage: null,
    });
    assert.ok(error instanceof ErrorClass && error instanceof KafkaPartitionError && error instanceof DroverError);
    assert.equal(error.name, name);
    assert.deepEqual([error.topic, error.partition, error.code], ['t', 2, code]);
    assert.equal(error.retryable, kafkaErrorDefinition(code).retryable);
    assert.match(
      error.message,
      new RegExp(`^AlterPartitionReassignments t-2: ${kafkaErrorDefinition(code).name} \\(${code}\\): `),
    );
  }
});

test('request and resource errors name what failed', () => {
  const request = new KafkaRequestError('DescribeLogDirs', 56, null, 'broker 4 log dir /data');
  assert.equal(request.kafkaName, 'KAFKA_STORAGE_ERROR');
  assert.match(request.message, /^DescribeLogDirs broker 4 log dir \/data: KAFKA_STORAGE_ERROR \(56\)/);
  const resource = new KafkaResourceError('IncrementalAlterConfigs', 'topic:orders', 40, 'Invalid value x');
  assert.equal(resource.message, 'IncrementalAlterConfigs topic:orders: INVALID_CONFIG (40): Invalid value x');
  assert.equal(resource.resource, 'topic:orders');
  assert.equal(resource.retryable, false);
});
