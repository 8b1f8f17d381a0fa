// Builds a topology from the rows of Cassandra's system tables as cassandra-driver returns them:
// `SELECT broadcast_address, listen_address, host_id, data_center, rack, tokens, partitioner FROM
// system.local`, `SELECT peer, host_id, data_center, rack, tokens FROM system.peers` (or
// `system.peers_v2`, same columns plus ports) and `SELECT keyspace_name, replication FROM
// system_schema.keyspaces`. Addresses and UUIDs may be driver objects: they are read with String().

import { parseTopology } from './topology.ts';
import type { Topology } from './types.ts';

export interface SystemLocalRow {
  broadcast_address?: unknown;
  listen_address?: unknown;
  host_id?: unknown;
  data_center?: unknown;
  rack?: unknown;
  tokens?: unknown;
  partitioner?: unknown;
}

/** A row of `system.peers` or `system.peers_v2`; `peer` is the broadcast address. */
export interface SystemPeerRow {
  peer?: unknown;
  host_id?: unknown;
  data_center?: unknown;
  rack?: unknown;
  tokens?: unknown;
}

export interface SchemaKeyspaceRow {
  keyspace_name?: unknown;
  replication?: unknown;
}

function text(value: unknown): unknown {
  return value === null || value === undefined || typeof value === 'string' ? value : String(value);
}

function tokenList(value: unknown): unknown {
  if (value instanceof Set) return [...value].map(text);
  return Array.isArray(value) ? value.map(text) : value;
}

function node(address: unknown, row: SystemLocalRow | SystemPeerRow): unknown {
  const hostId = text(row.host_id);
  return {
    address: text(address),
    ...(typeof hostId === 'string' ? { hostId } : {}),
    dc: text(row.data_center),
    rack: text(row.rack),
    tokens: tokenList(row.tokens),
  };
}

/**
 * The topology file for a cluster, validated like a file read from disk (InvalidInputErrors on a
 * peer row without tokens, DC or rack: such a node is joining or gossip is unhealthy).
 */
export function topologyFromSystemTables(
  local: SystemLocalRow,
  peers: readonly SystemPeerRow[],
  keyspaces: readonly SchemaKeyspaceRow[],
): Topology {
  const replicationOf = (value: unknown) =>
    value instanceof Map ? Object.fromEntries([...value].map(([k, v]) => [String(k), text(v)])) : value;
  return parseTopology({
    partitioner: text(local.partitioner),
    nodes: [node(local.broadcast_address ?? local.listen_address, local), ...peers.map((p) => node(p.peer, p))],
    keyspaces: keyspaces.map((row) => ({ name: text(row.keyspace_name), replication: replicationOf(row.replication) })),
  });
}
