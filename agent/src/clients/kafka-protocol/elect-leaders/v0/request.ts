/*
  ElectLeaders Request (Version: 0) => [topic_partitions] timeout_ms
    topic_partitions => topic [partitions]
      topic => STRING
      partitions => INT32
    timeout_ms => INT32

  (Kafka 2.2+, KIP-183 "ElectPreferredLeaders": every election is a preferred-replica election.
  topic_partitions is a nullable array; null means every partition of the cluster.)
*/
import { Writer } from '@platformatic/kafka';
import { ELECTION_TYPES, type ElectLeadersRequest } from '../types.ts';

export function encode(request: ElectLeadersRequest): Writer {
  if (request.electionType !== ELECTION_TYPES.PREFERRED) {
    throw new RangeError('ElectLeaders v0 only elects preferred replicas (election type 0)');
  }
  return Writer.create()
    .appendArray(
      request.topicPartitions,
      (w, t) => {
        w.appendString(t.topic, false).appendArray(t.partitions, (w, p) => w.appendInt32(p), false, false);
      },
      false,
      false,
    )
    .appendInt32(request.timeoutMs);
}
