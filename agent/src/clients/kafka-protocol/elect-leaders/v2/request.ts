/*
  ElectLeaders Request (Version: 2) => election_type [topic_partitions] timeout_ms TAG_BUFFER
    election_type => INT8
    topic_partitions => topic [partitions] TAG_BUFFER
      topic => COMPACT_STRING
      partitions => INT32
    timeout_ms => INT32

  (Kafka 2.4+, the first flexible version: compact strings and arrays (unsigned varint length + 1,
  0 = null), a tagged-field buffer after every struct, and request header v2.)
*/
import { Writer } from '@platformatic/kafka';
import type { ElectLeadersRequest } from '../types.ts';

export function encode(request: ElectLeadersRequest): Writer {
  return Writer.create()
    .appendInt8(request.electionType)
    .appendArray(
      request.topicPartitions,
      (w, t) => {
        w.appendString(t.topic, true).appendArray(t.partitions, (w, p) => w.appendInt32(p), true, false);
      },
      true,
      true,
    )
    .appendInt32(request.timeoutMs)
    .appendTaggedFields();
}
