// The Cassandra node-status signal: "may I change the schema (drop a table) now?". Every agent that
// runs a Cassandra node reads its node's state every few seconds and puts it into KV
// drover-node-status under `<cluster>.<agentId>`; the agent's local HTTP endpoint, a NATS request and
// `drover cassandra status` all answer with the same summary of those records. A table dropped while a
// node rebuilds or streams breaks the rebuild, so the summary errs on the side of "no": a node that
// has not reported, or whose report is older than staleMs, counts as not available.
//
// Which agents are expected: the registry record (KV drover-agents) does not say whether an agent runs
// Cassandra, and nothing is added to it for this. An agent of the cluster that has written a status key
// (one that has not expired, see STATUS_TTL_MS) is a Cassandra node of the cluster; an answering agent
// adds itself. Agents are NOT dropped from the expected set because their registry record is stale or
// offline: an agent that is down is exactly the node we can no longer vouch for.
//
// The names live here rather than in subjects.ts to keep the signal in one file; they are built from
// validated tokens the same way (assertToken).
import { type CassandraNodeStatus, CassandraNodeStatusSchema } from './steps/cassandra.ts';
import { assertToken } from './subjects.ts';

/** KV bucket of the latest status of every Cassandra node, one key per agent: `<cluster>.<agentId>`. */
export const KV_NODE_STATUS = 'drover-node-status';

/** How often an agent reads and publishes its node's status. */
export const STATUS_INTERVAL_MS = 2000;

/**
 * A status older than this counts as not available: several missed intervals, with room for a read
 * against a node that does not answer (the CQL connect timeout is 5 s).
 */
export const STATUS_STALE_MS = 15_000;

/**
 * The bucket's max_age: a key not rewritten for this long disappears, and with it the agent from the
 * expected set (so a decommissioned node stops holding the signal at "no" after 10 minutes). The cost:
 * an agent silent for longer than this (down while its node still runs) is no longer waited for.
 */
export const STATUS_TTL_MS = 10 * 60 * 1000;

/** The queue group agents answer status requests in (one answer per request). */
export const STATUS_QUEUE_GROUP = 'drover-node-status';

/** Key of one node's status in KV drover-node-status. */
export function nodeStatusKey(cluster: string, agentId: string): string {
  return `${assertToken('cluster', cluster)}.${assertToken('agentId', agentId)}`;
}

/** Every node status key of one cluster. */
export function nodeStatusFilter(cluster: string): string {
  return `${assertToken('cluster', cluster)}.*`;
}

/** Parses `<cluster>.<agentId>`; undefined for anything else. */
export function parseNodeStatusKey(key: string): { cluster: string; agentId: string } | undefined {
  const parts = key.split('.');
  if (parts.length !== 2) return undefined;
  const [cluster, agentId] = parts as [string, string];
  try {
    assertToken('cluster', cluster);
    assertToken('agentId', agentId);
  } catch {
    return undefined;
  }
  return { cluster, agentId };
}

/** Core NATS subject on which one agent of the cluster (queue group) answers with the cluster summary. */
export function cassandraStatusSubject(cluster: string): string {
  return `drover.status.cassandra.${assertToken('cluster', cluster)}`;
}

/** What readNodeStatuses needs of a KV bucket (a `KV` of @nats-io/kv fits; shared stays free of NATS). */
export interface NodeStatusStore {
  keys(filter: string): Promise<AsyncIterable<string>>;
  get(key: string): Promise<{ key: string; operation: string; json<T>(): T } | null>;
}

/**
 * Every status of one cluster in KV drover-node-status: the agents that have a key (even one whose
 * value does not parse: that node is expected and has no usable status) and the statuses that parse
 * and name the key's own agent (a record under another agent's key is ignored).
 */
export async function readNodeStatuses(
  kv: NodeStatusStore,
  cluster: string,
): Promise<{ agents: string[]; statuses: CassandraNodeStatus[] }> {
  const keys: string[] = [];
  for await (const key of await kv.keys(nodeStatusFilter(cluster))) keys.push(key);
  const agents: string[] = [];
  const statuses: CassandraNodeStatus[] = [];
  for (const entry of await Promise.all(keys.map((k) => kv.get(k)))) {
    if (entry?.operation !== 'PUT') continue;
    const parsedKey = parseNodeStatusKey(entry.key);
    if (parsedKey?.cluster !== cluster) continue;
    agents.push(parsedKey.agentId);
    let value: unknown;
    try {
      value = entry.json();
    } catch {
      continue; // not JSON: the agent stays expected, without a status
    }
    const parsed = CassandraNodeStatusSchema.safeParse(value);
    if (parsed.success && parsed.data.agent === parsedKey.agentId) statuses.push(parsed.data);
  }
  return { agents, statuses };
}

export type CassandraNodeStatusView = CassandraNodeStatus & { stale: boolean };

export interface ClusterStatusSummary {
  cluster: string;
  /** True only when there is at least one node and every one is fresh and available. */
  allNodesAvailable: boolean;
  /** The latest status of every node that has one, sorted by agent. */
  nodes: CassandraNodeStatusView[];
  /** Every expected or reporting agent that is not available, and why. */
  notAvailable: Array<{ agent: string; reason: string }>;
  at: number;
}

export interface SummarizeInput {
  cluster: string;
  /** Agent ids of the cluster that run a Cassandra node (see the file's opening comment). */
  expected: readonly string[];
  statuses: readonly CassandraNodeStatus[];
  now: number;
  /** @default STATUS_STALE_MS */
  staleMs?: number;
}

/**
 * The cluster's answer to "may I change the schema now?". Pure. A status from an agent not in
 * `expected` still counts: a node that reports is a node of the cluster.
 */
export function summarizeClusterStatus(input: SummarizeInput): ClusterStatusSummary {
  const staleMs = input.staleMs ?? STATUS_STALE_MS;
  const latest = new Map<string, CassandraNodeStatus>();
  for (const s of input.statuses) {
    const seen = latest.get(s.agent);
    if (!seen || s.at > seen.at) latest.set(s.agent, s);
  }
  const agents = [...new Set([...input.expected, ...latest.keys()])].sort();
  const nodes: CassandraNodeStatusView[] = [];
  const notAvailable: ClusterStatusSummary['notAvailable'] = [];
  for (const agent of agents) {
    const status = latest.get(agent);
    if (!status) {
      notAvailable.push({ agent, reason: 'no status reported (agent down or its Cassandra signal not running)' });
      continue;
    }
    const age = input.now - status.at;
    const stale = age > staleMs;
    nodes.push({ ...status, stale });
    if (stale) {
      notAvailable.push({
        agent,
        reason: `last status ${seconds(age)} old (older than ${seconds(staleMs)}; agent down or not reading), was ${status.state}`,
      });
    } else if (!status.available) {
      notAvailable.push({ agent, reason: `${status.state}: ${status.detail.replace(/\s+/g, ' ').trim()}` });
    }
  }
  return {
    cluster: input.cluster,
    allNodesAvailable: agents.length > 0 && notAvailable.length === 0,
    nodes,
    notAvailable,
    at: input.now,
  };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
