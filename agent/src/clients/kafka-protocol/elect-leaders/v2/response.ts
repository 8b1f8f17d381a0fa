/*
  ElectLeaders Response (Version: 2) => throttle_time_ms error_code [replica_election_results] TAG_BUFFER
    throttle_time_ms => INT32
    error_code => INT16
    replica_election_results => topic [partition_result] TAG_BUFFER
      topic => COMPACT_STRING
      partition_result => partition_id error_code error_message TAG_BUFFER
        partition_id => INT32
        error_code => INT16
        error_message => COMPACT_NULLABLE_STRING

  (Response header v1: the connection skips its tagged-field buffer before this body.)
*/
import type { Reader } from '@platformatic/kafka';
import type { ElectLeadersResponse } from '../types.ts';

export { parse } from '../v0/response.ts';

export function decode(reader: Reader): ElectLeadersResponse {
  const response: ElectLeadersResponse = {
    throttleTimeMs: reader.readInt32(),
    errorCode: reader.readInt16(),
    replicaElectionResults: reader.readArray(
      (r) => ({
        topic: r.readString(true),
        partitionResult: r.readArray(
          (r) => ({
            partitionId: r.readInt32(),
            errorCode: r.readInt16(),
            errorMessage: r.readNullableString(true),
          }),
          true,
          true,
        ),
      }),
      true,
      true,
    ),
  };
  reader.readTaggedFields();
  return response;
}
