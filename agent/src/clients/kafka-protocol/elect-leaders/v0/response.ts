/*
  ElectLeaders Response (Version: 0) => throttle_time_ms [replica_election_results]
    throttle_time_ms => INT32
    replica_election_results => topic [partition_result]
      topic => STRING
      partition_result => partition_id error_code error_message
        partition_id => INT32
        error_code => INT16
        error_message => NULLABLE_STRING
*/
import type { Reader } from '@platformatic/kafka';
import { KAFKA_ERROR_CODES, KafkaRequestError, partitionError } from '../../errors.ts';
import type { ElectionResult, ElectLeadersResponse } from '../types.ts';

export function decode(reader: Reader): ElectLeadersResponse {
  return {
    throttleTimeMs: reader.readInt32(),
    errorCode: 0,
    replicaElectionResults: reader.readArray(
      (r) => ({
        topic: r.readString(false),
        partitionResult: r.readArray(
          (r) => ({
            partitionId: r.readInt32(),
            errorCode: r.readInt16(),
            errorMessage: r.readNullableString(false),
          }),
          false,
          false,
        ),
      }),
      false,
      false,
    ),
  };
}

/**
 * Every partition's outcome, in the broker's order, with its error code turned into a typed error;
 * ELECTION_NOT_NEEDED (84) is success. A top-level error code (v1+) fails the whole request.
 */
export function parse(response: ElectLeadersResponse): ElectionResult[] {
  if (response.errorCode !== KAFKA_ERROR_CODES.NONE) {
    throw new KafkaRequestError('ElectLeaders', response.errorCode, null);
  }
  const results: ElectionResult[] = [];
  for (const { topic, partitionResult } of response.replicaElectionResults) {
    for (const { partitionId: partition, errorCode: code, errorMessage } of partitionResult) {
      if (code === KAFKA_ERROR_CODES.NONE || code === KAFKA_ERROR_CODES.ELECTION_NOT_NEEDED) {
        results.push({ topic, partition, electionNeeded: code === KAFKA_ERROR_CODES.NONE, error: null });
      } else {
        const error = partitionError({ api: 'ElectLeaders', topic, partition, code, serverMessage: errorMessage });
        results.push({ topic, partition, electionNeeded: false, error });
      }
    }
  }
  return results;
}
