// Work this agent process is about to start on a local Cassandra node that makes the node "not
// available" (a rebuild), announced BEFORE it starts: the node-status signal publishes it at once
// (without waiting for its next read) and the step waits ANNOUNCE_GRACE_MS before starting, so an
// automation that was told "available" just before has that long to finish its table drop. Keyed by
// the node's CQL address (several agents may share one process in tests and rehearsals).

/** How long a step waits between announcing and starting; automation must act within this of a "yes". */
export const ANNOUNCE_GRACE_MS = 3000;

const active = new Map<string, Map<symbol, string>>();
const listeners = new Set<(node: string) => void>();

/** Announces `what` on `node` (host:port); call the returned function when it is over. */
export function beginNodeActivity(node: string, what: string): () => void {
  const token = Symbol(what);
  const entries = active.get(node) ?? new Map<symbol, string>();
  entries.set(token, what);
  active.set(node, entries);
  for (const listener of listeners) listener(node);
  return () => {
    entries.delete(token);
    if (entries.size === 0) active.delete(node);
    for (const listener of listeners) listener(node);
  };
}

/** What is announced on `node`, or undefined. */
export function nodeActivity(node: string): string | undefined {
  const entries = active.get(node);
  return entries && entries.size > 0 ? [...entries.values()].join(', ') : undefined;
}

/** Called on every announcement and end; returns the unsubscribe function. */
export function onNodeActivity(listener: (node: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
