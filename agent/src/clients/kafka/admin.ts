// The agent's client for its LOCAL Kafka broker: what the kafka.* migration steps do to a cluster,
// on one delegate agent per cluster. A thin class over one KafkaSession (connections, versions,
// controller); each operation lives in its own file and takes the session.
//
//   const kafka = new KafkaAdmin({ bootstrap: ['127.0.0.1:9092'] });
//   try { await kafka.alterReassignments([{ topic: 'orders', partition: 0, replicas: [4, 5, 6] }]); }
//   finally { await kafka.close(); }
import type { ConfigOp, Election, Reassignment } from '@drover/shared';
import type { ElectionResult } from '../kafka-protocol/index.ts';
import { describeCluster, readAssignment } from './cluster.ts';
import { incrementalAlterConfigs } from './configs.ts';
import { electPreferred } from './elections.ts';
import { describeLogDirs } from './log-dirs.ts';
import { type KafkaAdminOptions, resolveKafkaAdminOptions } from './options.ts';
import { alterReassignments, cancelReassignments, listReassignments } from './reassignments.ts';
import { KafkaSession } from './session.ts';
import { describeThrottles } from './throttles.ts';
import type {
  ClusterDescription,
  ConfigOpsResult,
  DescribeLogDirsOptions,
  PartitionState,
  ReassignmentInFlight,
  ReassignmentOutcome,
  ReplicaSize,
  ThrottleSetting,
} from './types.ts';
import type { TopicPartition } from './validate.ts';

export class KafkaAdmin {
  readonly #session: KafkaSession;

  /** Checks the options; connects on first use. */
  constructor(options: KafkaAdminOptions) {
    this.#session = new KafkaSession(resolveKafkaAdminOptions(options));
  }

  /** Brokers (id, host, port, rack), the controller id and the cluster id. */
  describeCluster(): Promise<ClusterDescription> {
    return describeCluster(this.#session);
  }

  /** Every partition of every topic, internal ones included: replicas, ISR, leader, offline replicas. */
  readAssignment(): Promise<PartitionState[]> {
    return readAssignment(this.#session);
  }

  /** The reassignments in flight (ListPartitionReassignments), sorted by topic and partition. */
  listReassignments(): Promise<ReassignmentInFlight[]> {
    return listReassignments(this.#session);
  }

  /** Starts each move (AlterPartitionReassignments); per-partition typed errors, in the order given. */
  alterReassignments(list: Reassignment[]): Promise<ReassignmentOutcome[]> {
    return alterReassignments(this.#session, list);
  }

  /** Cancels each in-flight move (null replicas); a partition not moving → NoReassignmentInProgressError. */
  cancelReassignments(list: TopicPartition[]): Promise<ReassignmentOutcome[]> {
    return cancelReassignments(this.#session, list);
  }

  /** ElectLeaders PREFERRED; ELECTION_NOT_NEEDED is success with `electionNeeded: false`. */
  electPreferred(list: Election[]): Promise<ElectionResult[]> {
    return electPreferred(this.#session, list);
  }

  /** Throttle ops in list order, one request per run of distinct (resource, key); other keys refused. */
  incrementalAlterConfigs(ops: ConfigOp[]): Promise<ConfigOpsResult> {
    return incrementalAlterConfigs(this.#session, ops);
  }

  /** Every throttle key set on any broker or topic (none left = clean-up done). */
  describeThrottles(): Promise<ThrottleSetting[]> {
    return describeThrottles(this.#session);
  }

  /** Bytes per (broker, topic, partition, log dir), for progress reports. */
  describeLogDirs(options?: DescribeLogDirsOptions): Promise<ReplicaSize[]> {
    return describeLogDirs(this.#session, options);
  }

  /** Closes every connection; the client cannot be used afterwards. */
  close(): Promise<void> {
    return this.#session.close();
  }
}
