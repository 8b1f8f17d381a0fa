// Reading the cluster: brokers and controller, and the assignment of every partition of every topic,
// internal ones included. @platformatic/kafka's `admin.metadata()` leaves internal topics out, and a
// pre-flight that saved its rollback plan without `__consumer_offsets` could not move it back, so
// Metadata is read here with the low-level API and topics = null ("all topics").
import { KAFKA_ERROR_CODES, KafkaRequestError, partitionError } from '../kafka-protocol/index.ts';
import type { KafkaSession, MetadataView } from './session.ts';
import type { ClusterDescription, PartitionState } from './types.ts';

/** A Metadata topic's name; a topic the broker answered with an error code fails the read. */
export function topicName(t: MetadataView['topics'][number]): string {
  if (t.errorCode !== KAFKA_ERROR_CODES.NONE || t.name === null) {
    const code = t.errorCode === KAFKA_ERROR_CODES.NONE ? KAFKA_ERROR_CODES.UNKNOWN_SERVER_ERROR : t.errorCode;
    throw new KafkaRequestError('Metadata', code, t.name === null ? 'a topic without a name' : null, `topic ${t.name}`);
  }
  return t.name;
}

export async function describeCluster(session: KafkaSession): Promise<ClusterDescription> {
  const metadata = await session.metadata([]);
  return {
    clusterId: metadata.clusterId,
    controllerId: metadata.controllerId,
    brokers: metadata.brokers
      .map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack }))
      .sort((a, b) => a.id - b.id),
  };
}

/**
 * Every partition of every topic (internal ones included), sorted by topic then partition. A topic
 * the broker answers with an error (being created or deleted) fails the read: a partial assignment
 * must not pass for the whole cluster. Per-partition errors (REPLICA_NOT_AVAILABLE when a replica is
 * offline, LEADER_NOT_AVAILABLE…) come with the partition's state.
 */
export async function readAssignment(session: KafkaSession): Promise<PartitionState[]> {
  const metadata = await session.metadata(null);
  const partitions: PartitionState[] = [];
  for (const t of metadata.topics) {
    const topic = topicName(t);
    for (const p of t.partitions) {
      partitions.push({
        topic,
        partition: p.partitionIndex,
        internal: t.isInternal,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        offlineReplicas: p.offlineReplicas,
        error:
          p.errorCode === KAFKA_ERROR_CODES.NONE
            ? null
            : partitionError({
                api: 'Metadata',
                topic,
                partition: p.partitionIndex,
                code: p.errorCode,
                serverMessage: null,
              }),
      });
    }
  }
  return partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}
