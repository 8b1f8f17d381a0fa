/*
  ElectLeaders Request (Version: 1) => election_type [topic_partitions] timeout_ms
    election_type => INT8
    topic_partitions => topic [partitions]
      topic => STRING
      partitions => INT32
    timeout_ms => INT32

  (Kafka 2.4+, KIP-460: the election type, 0 = PREFERRED, 1 = UNCLEAN.)
*/
import { Writer } from '@platformatic/kafka';
import type { ElectLeadersRequest } from '../types.ts';

export function encode(request: ElectLeadersRequest): Writer {
  return Writer.create()
    .appendInt8(request.electionType)
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
