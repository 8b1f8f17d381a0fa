// What the agent's Kafka client returns. Broker ids, topic names and partition numbers are Kafka's;
// lists keep Kafka's order where it means something (replicas: the first is the preferred leader).
import type { KafkaPartitionError } from '../kafka-protocol/index.ts';

export interface BrokerInfo {
  id: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface ClusterDescription {
  /** null for a cluster that reports none (ZooKeeper mode before one was generated). */
  clusterId: string | null;
  /** The controller the broker names (in KRaft, a broker that forwards to the active controller). */
  controllerId: number;
  /** Sorted by id. */
  brokers: BrokerInfo[];
}

/** One partition as Metadata reports it. */
export interface PartitionState {
  topic: string;
  partition: number;
  /** `__consumer_offsets`, `__transaction_state`… */
  internal: boolean;
  /** In order: the first is the preferred leader. */
  replicas: number[];
  isr: number[];
  /** -1 when the partition has no leader. */
  leader: number;
  leaderEpoch: number;
  offlineReplicas: number[];
  /** Metadata's error for the partition (LEADER_NOT_AVAILABLE, REPLICA_NOT_AVAILABLE…), null when none. */
  error: KafkaPartitionError | null;
}

/** A reassignment in flight (ListPartitionReassignments). */
export interface ReassignmentInFlight {
  topic: string;
  partition: number;
  /** The full replica list while moving: current and target replicas. */
  replicas: number[];
  adding: number[];
  removing: number[];
}

/** One partition of an AlterPartitionReassignments (or its cancel), in the order given. */
export interface ReassignmentOutcome {
  topic: string;
  partition: number;
  /** null: Kafka accepted it (the move runs on; watch listReassignments). */
  error: KafkaPartitionError | null;
}

export interface ConfigOpsResult {
  ops: number;
  /** Runs of ops with distinct (resource, key) pairs, applied one after another. */
  runs: number;
  /** IncrementalAlterConfigs requests sent (a run needs one per broker resource, one for topics). */
  requests: number;
}

export type ConfigSourceName =
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG'
  | 'DYNAMIC_BROKER_LOGGER_CONFIG'
  | 'UNKNOWN';

/** A throttle key with a value set on a broker or topic (not Kafka's default). */
export interface ThrottleSetting {
  /** `topic:<name>` or `broker:<id>` (as in ConfigOp). */
  resource: string;
  key: string;
  value: string;
  /** Where the value comes from: a dynamic config, a cluster-wide dynamic default, server.properties. */
  source: ConfigSourceName;
}

/** The size of one replica in one log dir (DescribeLogDirs). */
export interface ReplicaSize {
  broker: number;
  topic: string;
  partition: number;
  logDir: string;
  sizeBytes: number;
  /** How far this replica's log end is behind the leader's (or the current replica's, for a future one). */
  offsetLag: number;
  /** A replica being moved between log dirs of the broker (the future log). */
  future: boolean;
}

export interface DescribeLogDirsOptions {
  /** Only these brokers. @default every broker of the cluster */
  brokers?: number[];
  /** Only these topics. @default every topic */
  topics?: string[];
}
