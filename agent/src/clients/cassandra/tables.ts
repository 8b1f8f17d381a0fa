// What the agent reads from its local node's system tables and virtual tables (Cassandra 4.0+):
// itself and its peers (placement inputs), keyspaces' replication, the ranges a rebuild has recorded as
// available, live streaming sessions, JVM properties, and schema versions (agreement).
import type { CassandraRange } from '@drover/shared';
import type { CqlSession, Row } from './cql.ts';
import { decodeRangeBlob } from './ranges.ts';

export interface NodeRow {
  address: string;
  hostId?: string;
  dc: string;
  rack: string;
  tokens: string[];
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const tokens = (v: unknown): string[] =>
  (Array.isArray(v) ? v.map(String) : []).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));

export async function readLocal(
  cql: CqlSession,
): Promise<NodeRow & { releaseVersion: string; partitioner: string; bootstrapped: string }> {
  const [row] = await cql.execute(
    'SELECT broadcast_address, host_id, data_center, rack, tokens, release_version, partitioner, bootstrapped FROM system.local',
  );
  if (!row) throw new Error('system.local is empty');
  return {
    address: text(row.get('broadcast_address')),
    hostId: text(row.get('host_id')),
    dc: text(row.get('data_center')),
    rack: text(row.get('rack')),
    tokens: tokens(row.get('tokens')),
    releaseVersion: text(row.get('release_version')),
    partitioner: text(row.get('partitioner')),
    bootstrapped: text(row.get('bootstrapped')),
  };
}

export async function readPeers(cql: CqlSession): Promise<NodeRow[]> {
  const rows = await cql.execute('SELECT peer, host_id, data_center, rack, tokens FROM system.peers_v2');
  return rows.map((row: Row) => ({
    address: text(row.get('peer')),
    hostId: text(row.get('host_id')),
    dc: text(row.get('data_center')),
    rack: text(row.get('rack')),
    tokens: tokens(row.get('tokens')),
  }));
}

export async function readKeyspaces(
  cql: CqlSession,
): Promise<Array<{ name: string; replication: Record<string, string> }>> {
  const rows = await cql.execute('SELECT keyspace_name, replication FROM system_schema.keyspaces');
  return rows
    .map((row) => ({
      name: text(row.get('keyspace_name')),
      replication: Object.fromEntries(
        Object.entries((row.get('replication') ?? {}) as Record<string, unknown>).map(([k, v]) => [k, text(v)]),
      ),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Partition key types whose text form `nodetool getendpoints` parses back and a plan can carry. */
const SAMPLE_KEY_TYPES = new Set(['text', 'varchar', 'ascii', 'int', 'bigint', 'smallint', 'uuid', 'timeuuid']);
const SIMPLE_NAME = /^[A-Za-z0-9_]{1,48}$/;
const SAMPLE_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface SampleKey {
  keyspace: string;
  table: string;
  key: string;
  /** The key's token as this node computes it (decimal). */
  token: string;
}

/**
 * A few existing partition keys of user tables with a one-column key of a simple type, each with its
 * token (`SELECT token(k), k … LIMIT n`): the migration generator works out from the tokens where the
 * plan puts their replicas, and the verify step asks `nodetool getendpoints` whether Cassandra agrees.
 * A table that cannot be read is skipped.
 */
export async function readSampleKeys(
  cql: CqlSession,
  options: { tables?: number; perTable?: number } = {},
): Promise<SampleKey[]> {
  const rows = await cql.execute(
    'SELECT keyspace_name, table_name, column_name, kind, type FROM system_schema.columns',
  );
  const keys = new Map<string, { keyspace: string; table: string; columns: { name: string; type: string }[] }>();
  for (const row of rows) {
    const keyspace = text(row.get('keyspace_name'));
    if (keyspace.startsWith('system') || text(row.get('kind')) !== 'partition_key') continue;
    const table = text(row.get('table_name'));
    const entry = keys.get(`${keyspace}.${table}`) ?? { keyspace, table, columns: [] };
    entry.columns.push({ name: text(row.get('column_name')), type: text(row.get('type')) });
    keys.set(`${keyspace}.${table}`, entry);
  }
  const usable = [...keys.values()]
    .filter(
      (t) =>
        t.columns.length === 1 &&
        SAMPLE_KEY_TYPES.has(t.columns[0]!.type) &&
        [t.keyspace, t.table, t.columns[0]!.name].every((n) => SIMPLE_NAME.test(n)),
    )
    .sort((a, b) => `${a.keyspace}.${a.table}`.localeCompare(`${b.keyspace}.${b.table}`))
    .slice(0, options.tables ?? 5);
  const samples: SampleKey[] = [];
  for (const t of usable) {
    const column = t.columns[0]!.name;
    try {
      const found = await cql.execute(
        `SELECT token("${column}") AS t, "${column}" AS k FROM "${t.keyspace}"."${t.table}" LIMIT ${options.perTable ?? 2}`,
        [],
        { anyReplica: true },
      );
      for (const row of found) {
        const key = text(row.get('k'));
        if (SAMPLE_KEY.test(key))
          samples.push({ keyspace: t.keyspace, table: t.table, key, token: text(row.get('t')) });
      }
    } catch {
      // unreadable (no quorum, a table being dropped): no sample from it
    }
  }
  return samples;
}

/** Ranges of `keyspace` that rebuilds (or a bootstrap) recorded as available on this node. */
export async function readAvailableRanges(cql: CqlSession, keyspace: string): Promise<CassandraRange[]> {
  const rows = await cql.execute('SELECT full_ranges FROM system.available_ranges_v2 WHERE keyspace_name = ?', [
    keyspace,
  ]);
  return rows.flatMap((row) => ((row.get('full_ranges') ?? []) as Buffer[]).map(decodeRangeBlob));
}

export interface StreamingSession {
  id: string;
  operation: string;
  status: string;
  peers: string[];
  bytesToReceive: number;
  bytesReceived: number;
  failureCause: string;
  lastUpdatedAt: number;
}

/** Streaming operations this node took part in (system_views.streaming, kept 3 days). */
export async function readStreaming(cql: CqlSession): Promise<StreamingSession[]> {
  const rows = await cql.execute(
    'SELECT id, operation, status, peers, bytes_to_receive, bytes_received, failure_cause, last_updated_at FROM system_views.streaming',
  );
  return rows.map((row) => ({
    id: text(row.get('id')),
    operation: text(row.get('operation')),
    status: text(row.get('status')),
    peers: ((row.get('peers') ?? []) as unknown[]).map(String),
    bytesToReceive: Number(row.get('bytes_to_receive') ?? 0),
    bytesReceived: Number(row.get('bytes_received') ?? 0),
    failureCause: text(row.get('failure_cause')),
    lastUpdatedAt: row.get('last_updated_at') instanceof Date ? (row.get('last_updated_at') as Date).getTime() : 0,
  }));
}

/** A JVM system property of the running node (system_views.system_properties), or null when unset. */
export async function readSystemProperty(cql: CqlSession, name: string): Promise<string | null> {
  const [row] = await cql.execute('SELECT value FROM system_views.system_properties WHERE name = ?', [name]);
  const value = row?.get('value');
  return value === null || value === undefined ? null : String(value);
}

/** The schema version of this node and of every peer it knows. */
export async function readSchemaVersions(cql: CqlSession): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  const [local] = await cql.execute('SELECT broadcast_address, schema_version FROM system.local');
  if (local) versions.set(text(local.get('broadcast_address')), text(local.get('schema_version')));
  for (const row of await cql.execute('SELECT peer, schema_version FROM system.peers_v2'))
    versions.set(text(row.get('peer')), text(row.get('schema_version')));
  return versions;
}
