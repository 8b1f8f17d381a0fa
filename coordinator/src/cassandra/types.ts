// The data shapes of the Cassandra planner: the topology file it reads and the rebuild plan it writes.
// Field names are the file formats of issue 4; extra fields only ever get added, never renamed.

/** One node as the system tables describe it (`system.local`, `system.peers`, `system.peers_v2`). */
export interface TopologyNode {
  /** Broadcast address: what `nodetool rebuild -s` names and what `system.peers.peer` holds. */
  address: string;
  /** `host_id`, informational. */
  hostId?: string;
  dc: string;
  rack: string;
  /** Murmur3 tokens as signed 64-bit decimal strings. */
  tokens: string[];
}

/** A keyspace with its replication map exactly as `system_schema.keyspaces.replication` gives it. */
export interface TopologyKeyspace {
  name: string;
  replication: Record<string, string>;
}

/** The topology file: `{ partitioner, nodes, keyspaces }`. */
export interface Topology {
  partitioner: string;
  nodes: TopologyNode[];
  keyspaces: TopologyKeyspace[];
}

/** A token range `(start, end]` as decimal strings; `start >= end` means it wraps past the maximum. */
export type TokenRange = [start: string, end: string];

/** One `nodetool rebuild` to run on `node`, streaming `ranges` from `source` only. */
export interface RebuildInvocation {
  node: string;
  source: string;
  ranges: TokenRange[];
  /** Arguments after `nodetool` (connection flags are the executor's business). */
  argv: string[];
  /** 1-based part number when one (node, keyspace, source) group was split to keep `-ts` short. */
  part?: number;
  /** How many of `ranges` use this source as a fallback for a source that is down. */
  fallbackRanges?: number;
}

export type AtRiskKind = 'source-down' | 'destination-down' | 'no-source-replica';

/** A destination replica of a range that the plan does not rebuild, and why. */
export interface AtRiskRange {
  node: string;
  range: TokenRange;
  reason: string;
  kind: AtRiskKind;
}

/** Source replicas no destination replica copies (destination RF below source RF). */
export interface UncopiedSource {
  source: string;
  ranges: TokenRange[];
}

export interface KeyspacePlan {
  name: string;
  /** `NetworkTopologyStrategy` or `SimpleStrategy`. */
  strategy: string;
  /** Replicas per range in the source DC (NTS: min(RF, nodes); SimpleStrategy: varies, the maximum). */
  sourceReplicas: number;
  /** Replicas per range in the destination DC, same rules. */
  destReplicas: number;
  rebuilds: RebuildInvocation[];
  atRisk: AtRiskRange[];
  uncopied: UncopiedSource[];
}

/** One rebuild in the execution order; `part` as in {@link RebuildInvocation.part}. */
export interface OrderItem {
  node: string;
  keyspace: string;
  source: string;
  part?: number;
}

export type FindingSeverity = 'error' | 'warning' | 'info';

/** Something the operator must know about the plan that is not a single range (see `code`). */
export interface Finding {
  severity: FindingSeverity;
  code: string;
  keyspace?: string;
  message: string;
}

/** The plan: `{ sourceDc, destDc, keyspaces, order }` plus the inputs needed to verify it again. */
export interface RebuildPlan {
  sourceDc: string;
  destDc: string;
  keyspaces: KeyspacePlan[];
  /** Waves: in a wave each node runs at most one rebuild and each source feeds at most `maxStreamsPerSource`. */
  order: OrderItem[][];
  down: string[];
  maxStreamsPerSource: number;
  findings: Finding[];
}
