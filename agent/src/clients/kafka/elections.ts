// Preferred-leader elections through Drover's own ElectLeaders codec (no Node client has it), at the
// highest version the controller offers. ELECTION_NOT_NEEDED is success (`electionNeeded: false`).
import { type Election, ElectionSchema } from '@drover/shared';
import {
  ELECT_LEADERS_CODECS,
  ELECT_LEADERS_VERSIONS,
  ELECTION_TYPES,
  type ElectionResult,
  electLeadersApi,
  KAFKA_ERROR_CODES,
  NotControllerError,
  partitionError,
} from '../kafka-protocol/index.ts';
import type { KafkaSession } from './session.ts';
import { groupByTopic, partitionKey, validateList } from './validate.ts';

/**
 * Makes each partition's preferred (first) replica its leader; one ElectLeaders request for the list
 * (callers batch: Cruise Control sends at most 1000 partitions per request). Results in the order given.
 */
export async function electPreferred(session: KafkaSession, list: Election[]): Promise<ElectionResult[]> {
  const items = validateList('elections', list, ElectionSchema, partitionKey);
  if (items.length === 0) return [];
  const topicPartitions = [...groupByTopic(items)].map(([topic, ps]) => ({
    topic,
    partitions: ps.map((p) => p.partition),
  }));
  return session.withController(
    'ElectLeaders',
    async (connection) => {
      const version = await session.version(connection, 'ElectLeaders', ELECT_LEADERS_VERSIONS);
      const response = await session.send(connection, 'ElectLeaders', electLeadersApi(version), {
        electionType: ELECTION_TYPES.PREFERRED,
        topicPartitions,
        timeoutMs: session.options.requestTimeoutMs,
      });
      const results = new Map(ELECT_LEADERS_CODECS[version]!.parse(response).map((r) => [partitionKey(r), r]));
      return items.map(
        (p) =>
          results.get(partitionKey(p)) ?? {
            ...p,
            electionNeeded: false,
            error: partitionError({
              api: 'ElectLeaders',
              ...p,
              code: KAFKA_ERROR_CODES.UNKNOWN_SERVER_ERROR,
              serverMessage: 'the response has no result for this partition',
            }),
          },
      );
    },
    (results) => results.every((r) => r.error instanceof NotControllerError),
  );
}
