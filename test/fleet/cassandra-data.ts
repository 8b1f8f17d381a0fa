// Data for a Cassandra migration test that PROVES replica counts, not just row counts: a keyspace
// whose rows sit on 3, 2 and 1 replica(s) of the source datacenter (the inconsistency a real fleet has
// between repairs), each node's LOCAL partition keys read offline from its SSTables with Cassandra's own
// SSTableExport (no coordinator, so no read repair and no forwarding), and the per-row comparison "the
// new DC holds every row on at least as many replicas as the old DC did". A plain `nodetool rebuild`
// fails that comparison on such data (several new replicas copy the same old replica); a consistent
// rebuild (one-to-one sources, see shared/knowledge/cassandra.md) must pass it.
//
// Measured on 5.0.9 (3 + 3 nodes, num_tokens 4, 3,000 rows on 3/2/1 replicas, plain `nodetool rebuild
// -- old` on each new node): with DIFFERENT rack names in the two DCs (old r1..r3, new a1..a3) 898 rows
// ended on NO new replica (all rows short were "none"); with the SAME rack names in both DCs, 0 rows
// short, because the snitch orders remote-DC sources by rack NAME (GossipingPropertyFileSnitch compares
// DC, then rack string), so new r1 copies old r1 for every range: one-to-one by accident. A test that
// must show a plain rebuild failing therefore gives the new DC other rack names. Also, a plain rebuild
// without -ks fails at once ("Unable to find sufficient sources ... in keyspace system_traces") while
// system_traces/system_distributed/system_auth still use SimpleStrategy: switch them to
// NetworkTopologyStrategy first, as the migration does.

import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '@drover/shared';
import cassandra from 'cassandra-driver';
import type { CassandraCluster, CassandraNode } from '../harness/cassandra.ts';
import { JVM17_OPTIONS, LOW_FOOTPRINT } from '../harness/cassandra-config.ts';
import { CommandFailedError } from '../harness/errors.ts';
import { makeTempDir, runCommand } from '../harness/process.ts';
import { CASSANDRA_VERSION, javaBinary, mavenClasspath } from '../harness/versions.ts';

const { Client, types, policies } = cassandra;

/** CQL identifiers this module interpolates into statements and paths: plain unquoted names only. */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function checkIdentifier(field: string, value: string): void {
  if (!IDENTIFIER.test(value))
    throw new InvalidInputError(field, value, 'a lower-case CQL identifier ([a-z_][a-z0-9_]*)');
}

// ---------------------------------------------------------------------------------------------------
// 1. Writing rows that are on 3, 2 and 1 replica(s)
// ---------------------------------------------------------------------------------------------------

export interface SkewedRowsOptions {
  keyspace: string;
  table: string;
  /** The datacenter that holds the data (the migration's source DC). */
  datacenter: string;
  /** Total rows, split over the three rounds by `shares`. */
  rows: number;
  /** Replication factor of `datacenter`; must equal its node count (see writeSkewedRows). @default 3 */
  rf?: number;
  /** Relative sizes of the rounds (all up, one node down, two nodes down). @default [1, 1, 1] */
  shares?: [number, number, number];
  /** Concurrent inserts in flight. @default 64 */
  concurrency?: number;
}

export interface SkewedRound {
  /** Nodes (names) that were stopped while this round was written. */
  stopped: string[];
  consistency: 'LOCAL_QUORUM' | 'LOCAL_ONE';
  /** Replicas each row of this round was meant to reach: rf minus the stopped nodes. */
  expectedReplicas: number;
  rows: number;
  /** First and last key of the round (keys are `r<round>-<seq>`, seq zero-padded). */
  firstKey: string;
  lastKey: string;
  durationMs: number;
}

export interface SkewedRows {
  /** Every key written (acknowledged), in write order. */
  keys: string[];
  /** The three rounds: all replicas up, one node stopped, two nodes stopped. */
  rounds: [SkewedRound, SkewedRound, SkewedRound];
  durationMs: number;
}

/**
 * Writes rows whose replica counts in `datacenter` differ, as between repairs on a real cluster:
 *
 * - round 1, every node up, LOCAL_QUORUM: each row on all rf replicas;
 * - round 2, the DC's first node stopped, LOCAL_ONE: each row on rf − 1 replicas (not the first node);
 * - round 3, the first node back, the second and third stopped, LOCAL_ONE: each row on rf − 2 replicas
 *   (with rf 3: on the first node only, i.e. on the one node that MISSED round 2).
 *
 * The stopped nodes are restarted (cluster.restart) after their round. The DC must have exactly `rf`
 * nodes, so that every node replicates every row and a stopped node really removes one replica from
 * EVERY row of its round (with more nodes than rf, only some ranges would be affected, and with rf 3
 * round 3 could find both replicas of a range down and fail with UnavailableException).
 *
 * Nothing repairs the gaps behind the caller's back: hinted handoff is turned off on every node of the
 * DC (`nodetool disablehandoff`, before any write, and again on each restarted node since the setting is
 * not persisted; it is left OFF when this returns), the table has `read_repair = 'NONE'` (Cassandra 4+),
 * and no row is read back through CQL. The keyspace (NetworkTopologyStrategy { datacenter: rf }) and
 * table (`id text PRIMARY KEY, v text`) are created if absent; an existing table gets the read_repair
 * option too. A write that fails throws (no key is reported that was not acknowledged).
 *
 * The client is cassandra-driver with a token-aware, DC-aware policy pinned to `datacenter`, one
 * client per round whose contact points are the round's live nodes.
 */
export async function writeSkewedRows(cluster: CassandraCluster, options: SkewedRowsOptions): Promise<SkewedRows> {
  const started = Date.now();
  const { keyspace, table, datacenter } = options;
  checkIdentifier('keyspace', keyspace);
  checkIdentifier('table', table);
  const rf = options.rf ?? 3;
  const shares = options.shares ?? [1, 1, 1];
  const concurrency = options.concurrency ?? 64;
  const dcNodes = cluster.nodes.filter((n) => n.datacenter === datacenter);
  if (!Number.isInteger(rf) || rf < 3) throw new InvalidInputError('rf', rf, 'an integer >= 3 (round 3 stops 2 nodes)');
  if (dcNodes.length !== rf) {
    throw new InvalidInputError(`nodes of datacenter ${datacenter}`, dcNodes.length, `exactly rf = ${rf} nodes`);
  }
  if (!Number.isInteger(options.rows) || options.rows < 3)
    throw new InvalidInputError('rows', options.rows, 'an integer >= 3');
  if (shares.length !== 3 || shares.some((s) => !(s > 0)))
    throw new InvalidInputError('shares', shares, 'three positive numbers');
  const down = dcNodes.filter((n) => !n.running).map((n) => n.name);
  if (down.length > 0) throw new InvalidInputError('stopped nodes', down, `every node of ${datacenter} running`);

  const total = shares[0] + shares[1] + shares[2];
  const first = Math.max(1, Math.round((options.rows * shares[0]) / total));
  const second = Math.max(1, Math.round((options.rows * shares[1]) / total));
  const counts = [first, second, Math.max(1, options.rows - first - second)];
  const width = String(Math.max(...counts)).length;

  const withClient = async <T>(live: CassandraNode[], use: (client: cassandra.Client) => Promise<T>): Promise<T> => {
    const client = new Client({
      contactPoints: live.map((n) => n.address),
      localDataCenter: datacenter,
      policies: {
        loadBalancing: new policies.loadBalancing.TokenAwarePolicy(
          new policies.loadBalancing.DCAwareRoundRobinPolicy(datacenter),
        ),
      },
      socketOptions: { connectTimeout: 5000, readTimeout: 20_000 },
      queryOptions: { prepare: true },
    });
    try {
      await client.connect();
      return await use(client);
    } finally {
      await client.shutdown();
    }
  };
  const disableHandoff = async (nodes: CassandraNode[]) => {
    for (const node of nodes) await cluster.nodetool(node, ['disablehandoff']);
  };

  await withClient(dcNodes, async (client) => {
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ` +
        `{'class': 'NetworkTopologyStrategy', '${datacenter}': ${rf}}`,
    );
    await client.execute(
      `CREATE TABLE IF NOT EXISTS ${keyspace}.${table} (id text PRIMARY KEY, v text) WITH read_repair = 'NONE'`,
    );
    await client.execute(`ALTER TABLE ${keyspace}.${table} WITH read_repair = 'NONE'`);
  });
  await disableHandoff(dcNodes);

  const plan: { stopped: CassandraNode[]; consistency: SkewedRound['consistency'] }[] = [
    { stopped: [], consistency: 'LOCAL_QUORUM' },
    { stopped: [dcNodes[0]!], consistency: 'LOCAL_ONE' },
    { stopped: [dcNodes[1]!, dcNodes[2]!], consistency: 'LOCAL_ONE' },
  ];
  const keys: string[] = [];
  const rounds: SkewedRound[] = [];
  for (const [index, step] of plan.entries()) {
    const roundStarted = Date.now();
    const round = index + 1;
    for (const node of step.stopped) await cluster.stop(node);
    const live = dcNodes.filter((n) => !step.stopped.includes(n));
    const roundKeys = Array.from({ length: counts[index]! }, (_, i) => `r${round}-${String(i).padStart(width, '0')}`);
    await withClient(live, async (client) => {
      const insert = `INSERT INTO ${keyspace}.${table} (id, v) VALUES (?, ?)`;
      const consistency = types.consistencies[step.consistency === 'LOCAL_QUORUM' ? 'localQuorum' : 'localOne'];
      for (let i = 0; i < roundKeys.length; i += concurrency) {
        const batch = roundKeys.slice(i, i + concurrency);
        await Promise.all(batch.map((key) => client.execute(insert, [key, `value-${key}`], { consistency })));
        keys.push(...batch);
      }
    });
    for (const node of step.stopped) await cluster.restart(node);
    await disableHandoff(step.stopped);
    rounds.push({
      stopped: step.stopped.map((n) => n.name),
      consistency: step.consistency,
      expectedReplicas: rf - step.stopped.length,
      rows: roundKeys.length,
      firstKey: roundKeys[0]!,
      lastKey: roundKeys.at(-1)!,
      durationMs: Date.now() - roundStarted,
    });
  }
  return { keys, rounds: rounds as SkewedRows['rounds'], durationMs: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------------
// 2. Each node's local partition keys, read offline from its SSTables
// ---------------------------------------------------------------------------------------------------

/** A node whose local data is read: `dataDir` is its (first) `data_file_directories` entry. */
export interface LocalNode {
  name: string;
  address: string;
  datacenter: string;
  dataDir: string;
}

/** Runs nodetool against `node` (e.g. `(n, argv) => cluster.nodetool(n.name, argv)`); must throw on failure. */
export type NodetoolRunner = (node: LocalNode, argv: string[]) => Promise<unknown>;

export interface LocalKeysOptions {
  /**
   * Nodes worked on at once (each step is a short JVM: nodetool, SSTableExport, about 1 s of CPU each;
   * sstables of one node are read one after another). @default 2
   */
  parallel?: number;
  /** Per-node detail (sstables read, keys, time), e.g. for t.diagnostic. */
  onNode?: (detail: { node: string; sstables: number; keys: number; durationMs: number }) => void;
}

/**
 * The harness nodes as LocalNodes. dataDir is read from the node's own cassandra.yaml (first entry of
 * `data_file_directories`), falling back to `<node.dir>/data/data`, which is what cassandra-config.ts's
 * renderYaml writes.
 */
export function harnessNodes(cluster: CassandraCluster, datacenter?: string): LocalNode[] {
  return cluster.nodes
    .filter((n) => datacenter === undefined || n.datacenter === datacenter)
    .map((n) => ({ name: n.name, address: n.address, datacenter: n.datacenter, dataDir: dataDirOf(n) }));
}

function dataDirOf(node: CassandraNode): string {
  try {
    const yaml = fs.readFileSync(node.configFile, 'utf8');
    const match = /^data_file_directories:\s*\n\s*-\s*(\S+)\s*$/m.exec(yaml);
    if (match?.[1]) return match[1];
  } catch {
    // no readable yaml: the harness layout below
  }
  return path.join(node.dir, 'data', 'data');
}

/**
 * Every partition key that each node holds LOCALLY for `keyspace.table`, without asking any
 * coordinator (which could read-repair, or forward to another replica).
 *
 * Per node: `nodetool snapshot -t <tag> --table <table> <keyspace>`, which FLUSHES the table first (no
 * --skip-flush; needed: rows written while the other replicas were down sit only in the survivors'
 * memtables until a flush) and then hard-links the live SSTable set of that instant (so a compaction
 * that deletes its inputs meanwhile cannot make a file vanish or be read half-written); then every
 * `*-Data.db` of `<dataDir>/<keyspace>/<table>-<id>/snapshots/<tag>/` is enumerated OFFLINE with
 * Cassandra's own `org.apache.cassandra.tools.SSTableExport <file> -e` (`sstabledump -e` of the
 * distribution: a JSON array of key-component arrays; it takes the table's schema from the SSTable
 * itself); then `nodetool clearsnapshot -t <tag> -- <keyspace>`.
 *
 * Keys are the partition key's components joined with ':' (the plain value for a one-column key).
 * Tombstones are not interpreted: a deleted key still counts as held (this module only inserts).
 * Every node must be running; `nodetool` must throw on a non-zero exit.
 */
export async function localKeys(
  nodes: LocalNode[],
  keyspace: string,
  table: string,
  nodetool: NodetoolRunner,
  options: LocalKeysOptions = {},
): Promise<Map<string, Set<string>>> {
  checkIdentifier('keyspace', keyspace);
  checkIdentifier('table', table);
  const tag = `drover-keys-${Date.now()}-${process.pid}`;
  const perNode = await mapLimit(nodes, options.parallel ?? 2, async (node) => {
    const started = Date.now();
    await nodetool(node, ['snapshot', '-t', tag, '--table', table, keyspace]);
    try {
      const files = snapshotDataFiles(node.dataDir, keyspace, table, tag);
      const keys = new Set<string>();
      for (const file of files) for (const key of await sstableKeys(file)) keys.add(key);
      options.onNode?.({ node: node.name, sstables: files.length, keys: keys.size, durationMs: Date.now() - started });
      return keys;
    } finally {
      await nodetool(node, ['clearsnapshot', '-t', tag, '--', keyspace]);
    }
  });
  return new Map(nodes.map((node, i) => [node.name, perNode[i]!]));
}

/** The `*-Data.db` files of snapshot `tag` of `keyspace.table` under one data directory. */
function snapshotDataFiles(dataDir: string, keyspace: string, table: string, tag: string): string[] {
  const keyspaceDir = path.join(dataDir, keyspace);
  const tableDirs = fs.existsSync(keyspaceDir)
    ? fs
        .readdirSync(keyspaceDir)
        .filter((d) => d.startsWith(`${table}-`) && /^[0-9a-f]{32}$/.test(d.slice(table.length + 1)))
    : [];
  const files: string[] = [];
  for (const dir of tableDirs) {
    const snapshot = path.join(keyspaceDir, dir, 'snapshots', tag);
    if (!fs.existsSync(snapshot)) continue;
    for (const file of fs.readdirSync(snapshot).sort()) {
      if (file.endsWith('-Data.db')) files.push(path.join(snapshot, file));
    }
  }
  return files;
}

let toolConfig: string | undefined;

/**
 * A minimal cassandra.yaml for offline tools (DatabaseDescriptor.toolInitialization insists on one;
 * only the partitioner matters to SSTableExport, and it creates none of the directories).
 */
function offlineToolConfig(): string {
  if (toolConfig) return toolConfig;
  const dir = makeTempDir('cassandra-tools');
  const yaml = path.join(dir, 'cassandra.yaml');
  fs.writeFileSync(
    yaml,
    `# written by test/fleet/cassandra-data.ts for offline SSTableExport runs
cluster_name: drover-offline-tools
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
commitlog_sync: periodic
commitlog_sync_period: 10000ms
data_file_directories:
  - ${path.join(dir, 'data')}
commitlog_directory: ${path.join(dir, 'commitlog')}
saved_caches_directory: ${path.join(dir, 'saved_caches')}
hints_directory: ${path.join(dir, 'hints')}
`,
  );
  fs.writeFileSync(
    path.join(dir, 'logback.xml'),
    `<configuration scan="false">
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender"><target>System.err</target>
    <encoder><pattern>%-5level %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR" /></root>
</configuration>
`,
  );
  toolConfig = yaml;
  return yaml;
}

/**
 * The partition keys of one SSTable (its `-Data.db` path), read offline with
 * `SSTableExport <file> -e`. Components of a composite key are joined with ':'.
 */
export async function sstableKeys(dataFile: string): Promise<string[]> {
  const yaml = offlineToolConfig();
  const args = [
    '-Xmx256m',
    ...LOW_FOOTPRINT,
    ...JVM17_OPTIONS,
    `-Dcassandra.config=file://${yaml}`,
    `-Dlogback.configurationFile=${path.join(path.dirname(yaml), 'logback.xml')}`,
    '-cp',
    mavenClasspath('cassandra', CASSANDRA_VERSION),
    'org.apache.cassandra.tools.SSTableExport',
    dataFile,
    '-e',
  ];
  const result = await runCommand(javaBinary(), args, { timeoutMs: 120_000 });
  const command = `SSTableExport ${dataFile} -e`;
  if (result.code !== 0) throw new CommandFailedError(command, result.code, result.output);
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch (cause) {
    throw new CommandFailedError(command, result.code, `not JSON: ${result.output.slice(0, 2000)}`, { cause });
  }
  if (!Array.isArray(parsed)) throw new CommandFailedError(command, result.code, 'expected a JSON array of keys');
  return parsed.map((key) => (Array.isArray(key) ? key.map(String).join(':') : String(key)));
}

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------------
// 3. The comparison
// ---------------------------------------------------------------------------------------------------

export interface ReplicaShortfall {
  /** Keys compared. */
  rows: number;
  /** Keys held by fewer destination-DC nodes than source-DC nodes. */
  short: string[];
  /** Keys held by no destination-DC node (also in `short` when the source held them). */
  none: string[];
  /** Number of source-DC holders → number of keys (0 = a key no source node holds). */
  sourceHistogram: Record<number, number>;
  /** Number of destination-DC holders → number of keys. */
  destHistogram: Record<number, number>;
}

/**
 * Per key, counts the nodes of `sourceDc` and of `destDc` whose local data holds it (from localKeys);
 * a key is short when the destination holds it on fewer nodes than the source. Nodes of other DCs are
 * ignored; a node of `local` missing from `dcOf` throws (a `dcOf` built before addDatacenter would
 * otherwise silently count the new DC as empty).
 */
export function replicaShortfall(
  keys: string[],
  local: Map<string, Set<string>>,
  dcOf: Map<string, string>,
  sourceDc: string,
  destDc: string,
): ReplicaShortfall {
  const sourceSets: Set<string>[] = [];
  const destSets: Set<string>[] = [];
  const unknown = [...local.keys()].filter((node) => !dcOf.has(node));
  if (unknown.length > 0) throw new InvalidInputError('dcOf', unknown, 'a datacenter for every node of `local`');
  for (const [node, set] of local) {
    const dc = dcOf.get(node);
    if (dc === sourceDc) sourceSets.push(set);
    else if (dc === destDc) destSets.push(set);
  }
  const short: string[] = [];
  const none: string[] = [];
  const sourceHistogram: Record<number, number> = {};
  const destHistogram: Record<number, number> = {};
  for (const key of keys) {
    const source = sourceSets.filter((s) => s.has(key)).length;
    const dest = destSets.filter((s) => s.has(key)).length;
    sourceHistogram[source] = (sourceHistogram[source] ?? 0) + 1;
    destHistogram[dest] = (destHistogram[dest] ?? 0) + 1;
    if (dest < source) short.push(key);
    if (dest === 0) none.push(key);
  }
  return { rows: keys.length, short, none, sourceHistogram, destHistogram };
}

/** Node name → DC, for replicaShortfall (build it after the last addDatacenter: cluster.nodes grows). */
export function datacenterOf(nodes: readonly { name: string; datacenter: string }[]): Map<string, string> {
  return new Map(nodes.map((n) => [n.name, n.datacenter]));
}

/** One streaming operation a node took part in (system_views.streaming). */
export interface StreamSession {
  id: string;
  operation: string;
  status: string;
  bytes: number;
}

/** The streaming operations a node has seen, asked of that node only (an allow-list policy on it). */
export async function sessionsOf(address: string, datacenter: string): Promise<StreamSession[]> {
  const c = new cassandra.Client({
    contactPoints: [address],
    localDataCenter: datacenter,
    policies: {
      loadBalancing: new cassandra.policies.loadBalancing.AllowListPolicy(
        new cassandra.policies.loadBalancing.RoundRobinPolicy(),
        [`${address}:9042`],
      ),
    },
  });
  try {
    const rows = (await c.execute('SELECT id, operation, status, bytes_received FROM system_views.streaming')).rows;
    return rows.map((r) => ({
      id: String(r.get('id')),
      operation: String(r.get('operation')),
      status: String(r.get('status')),
      bytes: Number(r.get('bytes_received') ?? 0),
    }));
  } finally {
    await c.shutdown();
  }
}
