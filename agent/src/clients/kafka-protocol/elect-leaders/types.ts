// The ElectLeaders (API key 43, KIP-183 / KIP-460) request and response as one shape for every
// version; each version's codec reads and writes the fields it has (v0 has no election type and no
// top-level error code: its decoder reports 0).
import type { KafkaPartitionError } from '../errors.ts';

/** ElectionType: 0 elects the preferred (first) replica, 1 the first live replica when none is in sync. */
export const ELECTION_TYPES = { PREFERRED: 0, UNCLEAN: 1 } as const;
export type ElectionType = (typeof ELECTION_TYPES)[keyof typeof ELECTION_TYPES];

export interface ElectLeadersRequestTopic {
  topic: string;
  partitions: number[];
}

export interface ElectLeadersRequest {
  electionType: ElectionType;
  /** null asks for EVERY partition of the cluster: Kafka's meaning, which Drover's client never sends. */
  topicPartitions: ElectLeadersRequestTopic[] | null;
  /** How long the controller may take to complete the elections. */
  timeoutMs: number;
}

export interface ElectLeadersPartitionResult {
  partitionId: number;
  errorCode: number;
  errorMessage: string | null;
}

export interface ElectLeadersTopicResult {
  topic: string;
  partitionResult: ElectLeadersPartitionResult[];
}

export interface ElectLeadersResponse {
  throttleTimeMs: number;
  /** Top-level error code (v1+); 0 for v0, which has none. */
  errorCode: number;
  replicaElectionResults: ElectLeadersTopicResult[];
}

/** One partition's election after `parse`: ELECTION_NOT_NEEDED is success with `electionNeeded: false`. */
export interface ElectionResult {
  topic: string;
  partition: number;
  /** false when the preferred replica already led (ELECTION_NOT_NEEDED), or when the election failed. */
  electionNeeded: boolean;
  error: KafkaPartitionError | null;
}
