// Work this agent process is about to start on a local Cassandra node that makes the node "not
// available" (a rebuild), announced BEFORE it starts: the node-status signal publishes it at once
// (without waiting for its next read) and the step waits ANNOUNCE_GRACE_MS before starting, so an
// automation that was told "available" just before has that long to finish its table drop. Keyed by
// the node's CQL address (several agents may share one process in tests and rehearsals).
import type { CassandraNodeStatus } from '@drover/shared';

/** How long a step waits between announcing and starting; automation must act within this of a "yes". */
export const ANNOUNCE_GRACE_MS = 3000;

const active = new Map<string, Map<symbol, string>>();
const listeners = new Set<(node: string) => void>();

/**
 * How long a finished rebuild keeps its node announced: the next wave's rebuild, arriving within
 * this, finds the node still announced. The node was never reported available in between, so no
 * automation was told "yes" and that rebuild owes no grace (it starts at once).
 */
export const REBUILD_LINGER_MS = 15_000;

/**
 * Announces `what` on `node` (host:port); call the returned function when it is over, with
 * `lingerMs` to keep the announcement that much longer (it then ends by itself).
 */
export function beginNodeActivity(node: string, what: string): (lingerMs?: number) => void {
  const token = Symbol(what);
  const entries = active.get(node) ?? new Map<symbol, string>();
  entries.set(token, what);
  active.set(node, entries);
  for (const listener of listeners) listener(node);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    entries.delete(token);
    if (entries.size === 0 && active.get(node) === entries) active.delete(node);
    for (const listener of listeners) listener(node);
  };
  return (lingerMs = 0) => {
    if (lingerMs <= 0) end();
    else setTimeout(end, lingerMs).unref();
  };
}

/** What is announced on `node`, or undefined. */
export function nodeActivity(node: string): string | undefined {
  const entries = active.get(node);
  return entries && entries.size > 0 ? [...entries.values()].join(', ') : undefined;
}

// Pipelined rebuild orders: which items this node finished (published in its status, read by the
// agents whose items wait for them), and the way to read the other nodes' statuses.
const rebuilt = new Map<string, { job: string; ids: string[] }>();
type StatusReader = () => Promise<CassandraNodeStatus[]>;
const readers = new Map<string, StatusReader>();

/** Records that item `index` of job `job` finished on `node`, and publishes it at once. */
export function markRebuilt(node: string, job: string, index: number): void {
  const entry = rebuilt.get(node);
  if (entry?.job === job) entry.ids.push(`${job}#${index}`);
  else rebuilt.set(node, { job, ids: [`${job}#${index}`] });
  for (const listener of listeners) listener(node);
}

/** What `node` finished of its latest pipelined order, or undefined. */
export function rebuiltOn(node: string): string[] | undefined {
  return rebuilt.get(node)?.ids;
}

/** The node-status signal registers how to read every node's status of the cluster (undefined: removed). */
export function setClusterStatusReader(node: string, reader: StatusReader | undefined): void {
  if (reader) readers.set(node, reader);
  else readers.delete(node);
}

export function clusterStatusReader(node: string): StatusReader | undefined {
  return readers.get(node);
}

/** Called on every announcement and end; returns the unsubscribe function. */
export function onNodeActivity(listener: (node: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
