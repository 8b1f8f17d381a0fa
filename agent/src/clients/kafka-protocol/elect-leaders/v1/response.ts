/*
  ElectLeaders Response (Version: 1) => throttle_time_ms error_code [replica_election_results]
    throttle_time_ms => INT32
    error_code => INT16
    replica_election_results => topic [partition_result]
      topic => STRING
      partition_result => partition_id error_code error_message
        partition_id => INT32
        error_code => INT16
        error_message => NULLABLE_STRING
*/
import type { Reader } from '@platformatic/kafka';
import type { ElectLeadersResponse } from '../types.ts';

export { parse } from '../v0/response.ts';

export function decode(reader: Reader): ElectLeadersResponse {
  return {
    throttleTimeMs: reader.readInt32(),
    errorCode: reader.readInt16(),
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
