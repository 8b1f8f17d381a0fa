// Kafka's error codes as Drover errors. A broker answers per partition (or per config resource, or
// for the whole request) with an INT16 code; these classes carry that code, Kafka's name for it, the
// broker's message and whether Kafka documents it as retriable. Failure kinds an executor acts on
// have their own class (a cancel that found nothing to cancel is not a replica list Kafka refused).
import { DroverError } from '@drover/shared';
import { protocolErrors, protocolErrorsCodesById } from '@platformatic/kafka';

/** The codes Drover's code looks at by name; everything else is handled by its definition. */
export const KAFKA_ERROR_CODES = {
  NONE: 0,
  UNKNOWN_SERVER_ERROR: -1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_REPLICA_ASSIGNMENT: 39,
  NOT_CONTROLLER: 41,
  REASSIGNMENT_IN_PROGRESS: 60,
  PREFERRED_LEADER_NOT_AVAILABLE: 80,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  ELECTION_NOT_NEEDED: 84,
  NO_REASSIGNMENT_IN_PROGRESS: 85,
} as const;

export interface KafkaErrorDefinition {
  code: number;
  /** Kafka's name, e.g. `NOT_CONTROLLER`; `UNKNOWN_ERROR_CODE_<n>` for a code this client does not know. */
  name: string;
  /** Whether Kafka documents the error as retriable. */
  retryable: boolean;
  description: string;
}

/** Kafka's definition of an error code (from @platformatic/kafka's table, generated from Kafka's Errors.java). */
export function kafkaErrorDefinition(code: number): KafkaErrorDefinition {
  const name = protocolErrorsCodesById[code];
  const definition = name === undefined ? undefined : protocolErrors[name];
  if (name === undefined || definition === undefined) {
    return {
      code,
      name: `UNKNOWN_ERROR_CODE_${code}`,
      retryable: false,
      description: 'an error code this client does not know',
    };
  }
  return { code, name, retryable: definition.canRetry, description: definition.message };
}

function describe(code: number, serverMessage: string | null | undefined): string {
  const definition = kafkaErrorDefinition(code);
  return `${definition.name} (${code})${serverMessage ? `: ${serverMessage}` : `: ${definition.description}`}`;
}

export interface KafkaPartitionErrorFields {
  /** The API that answered, e.g. `ElectLeaders`. */
  api: string;
  topic: string;
  partition: number;
  code: number;
  /** The broker's message for this partition, when it sent one. */
  serverMessage?: string | null | undefined;
}

/** A broker answered for one partition with an error code. */
export class KafkaPartitionError extends DroverError {
  readonly api: string;
  readonly topic: string;
  readonly partition: number;
  readonly code: number;
  readonly kafkaName: string;
  readonly serverMessage: string | null;
  constructor(fields: KafkaPartitionErrorFields) {
    const definition = kafkaErrorDefinition(fields.code);
    super(`${fields.api} ${fields.topic}-${fields.partition}: ${describe(fields.code, fields.serverMessage)}`, {
      retryable: definition.retryable,
    });
    this.name = 'KafkaPartitionError';
    this.api = fields.api;
    this.topic = fields.topic;
    this.partition = fields.partition;
    this.code = fields.code;
    this.kafkaName = definition.name;
    this.serverMessage = fields.serverMessage ?? null;
  }
}

/** The topic or partition does not exist (or is not known to the broker yet). */
export class UnknownTopicOrPartitionError extends KafkaPartitionError {
  constructor(fields: KafkaPartitionErrorFields) {
    super(fields);
    this.name = 'UnknownTopicOrPartitionError';
  }
}

/** Kafka refused a replica list (a broker that does not exist, a duplicate, an empty list…). */
export class InvalidReplicaAssignmentError extends KafkaPartitionError {
  constructor(fields: KafkaPartitionErrorFields) {
    super(fields);
    this.name = 'InvalidReplicaAssignmentError';
  }
}

/** Another reassignment of this partition is in flight (an election or a ZooKeeper-mode move). */
export class ReassignmentInProgressError extends KafkaPartitionError {
  constructor(fields: KafkaPartitionErrorFields) {
    super(fields);
    this.name = 'ReassignmentInProgressError';
  }
}

/** A cancel found no reassignment of this partition in flight: it had finished, or never started. */
export class NoReassignmentInProgressError extends KafkaPartitionError {
  constructor(fields: KafkaPartitionErrorFields) {
    super(fields);
    this.name = 'NoReassignmentInProgressError';
  }
}

/** The preferred (first) replica cannot lead now: it is offline or not in the ISR. Retry once it has caught up. */
export class PreferredLeaderNotAvailableError extends KafkaPartitionError {
  constructor(fields: KafkaPartitionErrorFields) {
    super(fields);
    this.name = 'PreferredLeaderNotAvailableError';
  }
}

/** The broker asked is not the controller (metadata was stale); ask the new controller. */
export class NotControllerError extends KafkaPartitionError {
  constructor(fields: KafkaPartitionErrorFields) {
    super(fields);
    this.name = 'NotControllerError';
  }
}

const PARTITION_ERROR_CLASSES: ReadonlyMap<number, new (fields: KafkaPartitionErrorFields) => KafkaPartitionError> =
  new Map<number, new (fields: KafkaPartitionErrorFields) => KafkaPartitionError>([
    [KAFKA_ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION, UnknownTopicOrPartitionError],
    [KAFKA_ERROR_CODES.INVALID_REPLICA_ASSIGNMENT, InvalidReplicaAssignmentError],
    [KAFKA_ERROR_CODES.NOT_CONTROLLER, NotControllerError],
    [KAFKA_ERROR_CODES.REASSIGNMENT_IN_PROGRESS, ReassignmentInProgressError],
    [KAFKA_ERROR_CODES.PREFERRED_LEADER_NOT_AVAILABLE, PreferredLeaderNotAvailableError],
    [KAFKA_ERROR_CODES.NO_REASSIGNMENT_IN_PROGRESS, NoReassignmentInProgressError],
  ]);

/** The typed error for a partition's non-zero error code. */
export function partitionError(fields: KafkaPartitionErrorFields): KafkaPartitionError {
  const ErrorClass = PARTITION_ERROR_CLASSES.get(fields.code) ?? KafkaPartitionError;
  return new ErrorClass(fields);
}

/** A broker answered a whole request, or one topic of it, with an error code. */
export class KafkaRequestError extends DroverError {
  readonly api: string;
  readonly code: number;
  readonly kafkaName: string;
  readonly serverMessage: string | null;
  /** What the code applies to when it is not the whole request, e.g. `topic orders` or `log dir /data`. */
  readonly subject: string | null;
  constructor(api: string, code: number, serverMessage: string | null | undefined, subject: string | null = null) {
    const definition = kafkaErrorDefinition(code);
    super(`${api}${subject ? ` ${subject}` : ''}: ${describe(code, serverMessage)}`, {
      retryable: definition.retryable,
    });
    this.name = 'KafkaRequestError';
    this.api = api;
    this.code = code;
    this.kafkaName = definition.name;
    this.serverMessage = serverMessage ?? null;
    this.subject = subject;
  }
}

/** One config resource (`topic:<name>` or `broker:<id>`) of a DescribeConfigs/IncrementalAlterConfigs failed. */
export class KafkaResourceError extends DroverError {
  readonly api: string;
  readonly resource: string;
  readonly code: number;
  readonly kafkaName: string;
  readonly serverMessage: string | null;
  constructor(api: string, resource: string, code: number, serverMessage: string | null | undefined) {
    const definition = kafkaErrorDefinition(code);
    super(`${api} ${resource}: ${describe(code, serverMessage)}`, { retryable: definition.retryable });
    this.name = 'KafkaResourceError';
    this.api = api;
    this.resource = resource;
    this.code = code;
    this.kafkaName = definition.name;
    this.serverMessage = serverMessage ?? null;
  }
}
