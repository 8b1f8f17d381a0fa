// Public entry of the Cassandra planner: topology → ring → replica placement → consistent-rebuild
// plan → verification. Pure functions; the drover commands and the executor build on these only.

export { NoSourceReplicasError, PlannerInvariantError } from './errors.ts';
export { REPLICATED_SYSTEM_KEYSPACES } from './keyspaces.ts';
export { type CassandraMigrationOptions, cassandraMigrationPlanFile, extendedTopology } from './migration-file.ts';
export { formatTokenRanges, rebuildArgv } from './nodetool.ts';
export {
  DEFAULT_MAX_STREAMS_PER_SOURCE,
  DEFAULT_MAX_TOKEN_RANGES_CHARS,
  type PlanRebuildOptions,
} from './options.ts';
export { type DcReplicas, type Placement, placeReplicas, replicasInDc, replicasOf } from './placement.ts';
export { loadPlan, parsePlan } from './plan-file.ts';
export { planRebuild } from './planner.ts';
export { renderPlan, renderVerification } from './render.ts';
export { parseReplication, type ReplicationFactor, type ReplicationStrategy } from './replication.ts';
export { buildRing, type Ring, type RingNode, rangeAt } from './ring.ts';
export {
  type SchemaKeyspaceRow,
  type SystemLocalRow,
  type SystemPeerRow,
  topologyFromSystemTables,
} from './system-tables.ts';
export { MAX_TOKEN, MIN_TOKEN, parseToken, readToken } from './tokens.ts';
export { loadTopology, parseTopology } from './topology.ts';
export type * from './types.ts';
export { type Invariant, type VerifyOptions, type VerifyResult, type Violation, verifyPlan } from './verify.ts';
