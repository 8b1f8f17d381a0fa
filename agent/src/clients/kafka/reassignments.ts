// Partition reassignments (KIP-455): list the moves in flight, start moves, cancel moves. All three go
// to the controller (a ZooKeeper-mode broker does not forward them; a KRaft broker does, so the
// broker Metadata names is fine there too). Results come per partition, in the order given.
import { type Reassignment, ReassignmentSchema } from '@drover/shared';
import { alterPartitionReassignmentsV0, listPartitionReassignmentsV0 } from '@platformatic/kafka';
import { KAFKA_ERROR_CODES, KafkaRequestError, NotControllerError, partitionError } from '../kafka-protocol/index.ts';
import type { KafkaSession } from './session.ts';
import type { ReassignmentInFlight, ReassignmentOutcome } from './types.ts';
import { groupByTopic, partitionKey, type TopicPartition, TopicPartitionSchema, validateList } from './validate.ts';

export async function listReassignments(session: KafkaSession): Promise<ReassignmentInFlight[]> {
  const response = await session.withController('ListPartitionReassignments', async (connection) => {
    await session.version(connection, 'ListPartitionReassignments', [0]);
    const timeoutMs = session.options.requestTimeoutMs;
    const r = await session.send(
      connection,
      'ListPartitionReassignments',
      listPartitionReassignmentsV0.api,
      timeoutMs,
      null,
    );
    if (r.errorCode !== KAFKA_ERROR_CODES.NONE) {
      throw new KafkaRequestError('ListPartitionReassignments', r.errorCode, r.errorMessage);
    }
    return r;
  });
  return response.topics
    .flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        replicas: p.replicas,
        adding: p.addingReplicas,
        removing: p.removingReplicas,
      })),
    )
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

/** Starts moving each partition to its replica list (the first replica becomes the preferred leader). */
export async function alterReassignments(session: KafkaSession, list: Reassignment[]): Promise<ReassignmentOutcome[]> {
  const items = validateList('reassignments', list, ReassignmentSchema, partitionKey);
  return sendReassignments(session, items);
}

/** Cancels the in-flight move of each partition (null replicas): Kafka puts back the replicas it had. */
export async function cancelReassignments(
  session: KafkaSession,
  list: TopicPartition[],
): Promise<ReassignmentOutcome[]> {
  const items = validateList('partitions', list, TopicPartitionSchema, partitionKey);
  return sendReassignments(
    session,
    items.map((p) => ({ ...p, replicas: null })),
  );
}

async function sendReassignments(
  session: KafkaSession,
  items: { topic: string; partition: number; replicas: number[] | null }[],
): Promise<ReassignmentOutcome[]> {
  if (items.length === 0) return [];
  const topics = [...groupByTopic(items)].map(([name, partitions]) => ({
    name,
    partitions: partitions.map((p) => ({ partitionIndex: p.partition, replicas: p.replicas })),
  }));
  const api = 'AlterPartitionReassignments';
  return session.withController(
    api,
    async (connection) => {
      await session.version(connection, api, [0]);
      const timeoutMs = session.options.requestTimeoutMs;
      const response = await session.send(connection, api, alterPartitionReassignmentsV0.api, timeoutMs, false, topics);
      if (response.errorCode !== KAFKA_ERROR_CODES.NONE) {
        throw new KafkaRequestError(api, response.errorCode, response.errorMessage);
      }
      const byPartition = new Map<string, { errorCode: number; errorMessage?: string | null | undefined }>();
      for (const t of response.responses) {
        for (const p of t.partitions) byPartition.set(partitionKey({ topic: t.name, partition: p.partitionIndex }), p);
      }
      return items.map(({ topic, partition }) => {
        const result = byPartition.get(partitionKey({ topic, partition })) ?? {
          errorCode: KAFKA_ERROR_CODES.UNKNOWN_SERVER_ERROR,
          errorMessage: 'the response has no result for this partition',
        };
        const { errorCode: code, errorMessage: serverMessage } = result;
        const error =
          code === KAFKA_ERROR_CODES.NONE ? null : partitionError({ api, topic, partition, code, serverMessage });
        return { topic, partition, error };
      });
    },
    (outcomes) => outcomes.every((o) => o.error instanceof NotControllerError),
  );
}
