// The plan's shapes: what `drover kafka plan-migration --json` prints and `export-phase` reads back.
// Field names follow issue 5 exactly; fields beyond it (summary, options, code, version) are additions.

/** One partition's target replica list; the first replica is the preferred leader. */
export interface Reassignment {
  topic: string;
  partition: number;
  replicas: number[];
}

/** A preferred-leader election (ElectLeaders PREFERRED): the first replica becomes leader. */
export interface Election {
  topic: string;
  partition: number;
}

export type ConfigOpKind = 'APPEND' | 'SUBTRACT' | 'SET' | 'DELETE';

/**
 * One IncrementalAlterConfigs operation. `resource` is `topic:<name>` or `broker:<id>`; `value` is
 * null for DELETE. Kafka rejects two operations on the same key of a resource in one request, so an
 * executor applies a batch's ops in list order, one request per run of distinct keys.
 */
export interface ConfigOp {
  resource: string;
  op: ConfigOpKind;
  key: string;
  value: string | null;
}

/**
 * A step an executor runs to completion before the next: first `configOps`, then `reassignments`
 * (wait until they leave ListPartitionReassignments and every target replica is in the ISR), then
 * `elections`.
 */
export interface Batch {
  reassignments: Reassignment[];
  elections: Election[];
  configOps: ConfigOp[];
}

/** What undoes a phase: reassign back to the assignment before it (and re-elect, for `leaders`). */
export interface Rollback {
  reassignments: Reassignment[];
  elections: Election[];
}

export type PhaseName = 'expand' | 'leaders' | 'shrink' | 'cleanup';
export const PHASE_NAMES: readonly PhaseName[] = ['expand', 'leaders', 'shrink', 'cleanup'];

/** Figures for the human summary. */
export interface PhaseSummary {
  /** Partitions whose replica list this phase changes. */
  moves: number;
  elections: number;
  /** expand: bytes copied to new replicas; shrink: bytes freed on dropped replicas; else 0. */
  bytes: number;
  batches: number;
  /** Brokers a cap counts against (expand: sources and destinations; leaders: old and new leader; shrink: brokers dropping a replica; cleanup: brokers with config ops). */
  brokersTouched: number[];
}

export interface Phase {
  name: PhaseName;
  batches: Batch[];
  rollback: Rollback;
  summary: PhaseSummary;
}

export type Severity = 'error' | 'warning' | 'info';

/** A pre-flight finding. `error` means the executor must not start until it is resolved. */
export interface Finding {
  severity: Severity;
  /** Stable machine-readable kind, e.g. `under-replicated`. */
  code: string;
  message: string;
  /** What it is about: `orders/0`, `broker:101`, `topic:orders` or `cluster`. */
  subject: string;
}

export interface PartitionMapping {
  source: number[];
  destination: number[];
}

/** The options the plan was made with (echoed so a plan file explains itself). */
export interface PlanOptionsEcho {
  placement: 'auto' | 'map';
  rf: number | null;
  perBrokerMoves: number;
  throttleBytesPerSec: number;
  order: 'small-first' | 'large-first';
  electionBatchMax: number;
  electionPerBrokerMax: number;
}

export interface MigrationPlan {
  version: 1;
  options: PlanOptionsEcho;
  /** Keyed `topic/partition` (topic names cannot contain `/`). */
  mapping: Record<string, PartitionMapping>;
  phases: Phase[];
  findings: Finding[];
}

/** The throttle keys Drover sets, and the one more that `kafka-reassign-partitions --verify` clears. */
export const THROTTLE_KEYS = {
  leaderReplicas: 'leader.replication.throttled.replicas',
  followerReplicas: 'follower.replication.throttled.replicas',
  leaderRate: 'leader.replication.throttled.rate',
  followerRate: 'follower.replication.throttled.rate',
  alterLogDirsRate: 'replica.alter.log.dirs.io.max.bytes.per.second',
} as const;

export const TOPIC_THROTTLE_KEYS: readonly string[] = [THROTTLE_KEYS.leaderReplicas, THROTTLE_KEYS.followerReplicas];
export const BROKER_THROTTLE_KEYS: readonly string[] = [
  THROTTLE_KEYS.leaderRate,
  THROTTLE_KEYS.followerRate,
  THROTTLE_KEYS.alterLogDirsRate,
];

export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
