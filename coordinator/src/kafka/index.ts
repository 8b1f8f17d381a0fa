// Public entry of the Kafka migration planner (pure code: no I/O, no clients). Commands and the
// executor import from here only.

export { firstFitBatches, groupByBatch } from './batching.ts';
export { PlanInvariantError } from './errors.ts';
export { EXPORTABLE, type ExportSelector, exportPhase, parsePlanFile, selectReassignments } from './export.ts';
export { preflightFindings } from './findings.ts';
export { chooseJoinMethod, type JoinMethodChoice, type VoterInspection } from './join-method.ts';
export { clusterDocument } from './live-cluster.ts';
export {
  type Broker,
  type BrokerRole,
  type Cluster,
  type ConfigSource,
  INTERNAL_TOPICS,
  type Partition,
  parseCluster,
  parseClusterFile,
  type ThrottleConfig,
  type Topic,
} from './model.ts';
export {
  type AutoPlacement,
  DEFAULT_ELECTION_BATCH_MAX,
  DEFAULT_ELECTION_PER_BROKER_MAX,
  DEFAULT_ORDER,
  DEFAULT_PER_BROKER_MOVES,
  DEFAULT_THROTTLE_BYTES_PER_SEC,
  type MapPlacement,
  type MoveOrder,
  type PlanOptions,
  parseBrokerMap,
  parseThrottle,
  type ResolvedPlanOptions,
  resolvePlanOptions,
} from './options.ts';
export { dedupe, expandReplicas, leadersReplicas } from './phases.ts';
export { destinationBrokers, placeDestinations } from './placement.ts';
export {
  chunk,
  migrationPlanFile,
  type ObserversOptions,
  observersPhase,
  type PlanFileOptions,
  planFileYaml,
} from './plan-file.ts';
export { partitionsInPlanOrder, planMigration } from './planner.ts';
export {
  formatReassignmentJson,
  parseReassignmentJson,
  type ReassignmentEntry,
  type ReassignmentJson,
  toReassignmentJson,
} from './reassign-json.ts';
export { formatBrokerIds, formatBytes, formatRate, renderFindings, renderPlan } from './render.ts';
export { brokerResource, topicResource } from './throttles.ts';
export * from './types.ts';
