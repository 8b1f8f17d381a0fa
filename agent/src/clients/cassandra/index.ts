// Public entry of the agent's Cassandra client: CQL to the local node, nodetool for the local node,
// system-table readers and token-range helpers.

export {
  ANNOUNCE_GRACE_MS,
  beginNodeActivity,
  clusterStatusReader,
  markRebuilt,
  nodeActivity,
  onNodeActivity,
  REBUILD_LINGER_MS,
  rebuiltOn,
  setClusterStatusReader,
} from './activity.ts';
export { CqlSession, type Row } from './cql.ts';
export {
  CassandraNotConfiguredError,
  CassandraUnreachableError,
  NodetoolError,
  RebuildNotResumableError,
} from './errors.ts';
export { type NodeLiveness, Nodetool, type NodetoolCall, nodetoolErrorText, parseStatus } from './nodetool.ts';
export { coveredBy, decodeRangeBlob, rangeText, tokenRangesArgument } from './ranges.ts';
export { readNodeStatus } from './status.ts';
export {
  type NodeRow,
  readAvailableRanges,
  readKeyspaces,
  readLocal,
  readPeers,
  readSampleKeys,
  readSchemaVersions,
  readStreaming,
  readSystemProperty,
  type SampleKey,
  type StreamingSession,
} from './tables.ts';
