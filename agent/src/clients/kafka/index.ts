// Public entry of the agent's Kafka client (agent/src/clients/kafka): the KafkaAdmin class, its
// options, result types and errors (the broker's error codes as typed errors come from the protocol
// folder and are re-exported here).

export {
  type ElectionResult,
  InvalidReplicaAssignmentError,
  KAFKA_ERROR_CODES,
  KafkaPartitionError,
  KafkaRequestError,
  KafkaResourceError,
  NoReassignmentInProgressError,
  NotControllerError,
  PreferredLeaderNotAvailableError,
  ReassignmentInProgressError,
  UnknownTopicOrPartitionError,
} from '../kafka-protocol/index.ts';
export { KafkaAdmin } from './admin.ts';
export { checkConfigOps, splitConfigOps, THROTTLE_KEY_RESOURCE, type ThrottleKey } from './configs.ts';
export {
  ConfigKeyNotAllowedError,
  ConfigOpsFailedError,
  KafkaClientClosedError,
  KafkaUnreachableError,
  KafkaUnsupportedApiError,
  type RefusedConfigOp,
} from './errors.ts';
export { type KafkaAdminOptions, resolveKafkaAdminOptions } from './options.ts';
export type * from './types.ts';
export type { TopicPartition } from './validate.ts';
