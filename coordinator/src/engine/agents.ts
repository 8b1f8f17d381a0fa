// Reading the agent registry (KV drover-agents) and resolving a label selector to targets.
import {
  type AgentRecord,
  AgentRecordSchema,
  agentKey,
  InvalidInputError,
  matchesSelector,
  parseSelector,
} from '@drover/shared';
import type { KV } from '@nats-io/kv';
import { AgentNotFoundError, NoTargetsError } from './errors.ts';
import { readAll } from './kv-read.ts';

export type AgentStatus = 'online' | 'stale' | 'offline';

export interface AgentView extends AgentRecord {
  /** online: heartbeat seen recently; stale: missed three heartbeats; offline: said goodbye. */
  liveness: AgentStatus;
}

export function livenessOf(record: AgentRecord, now = Date.now()): AgentStatus {
  if (record.status === 'offline') return 'offline';
  return now - record.lastSeen > 3 * record.heartbeatMs ? 'stale' : 'online';
}

/** Every registered agent, sorted by id. */
export async function listAgents(kv: KV, now = Date.now()): Promise<AgentView[]> {
  const records = await readAll(kv, '>', (v) => {
    const parsed = AgentRecordSchema.safeParse(v);
    return parsed.success ? parsed.data : undefined;
  });
  // The registry id is the KV key: a record under another key claiming an agent's id is ignored
  // (otherwise anyone who can write the bucket could make an agent appear twice).
  return [...records]
    .filter(([key, record]) => key === record.id)
    .map(([, record]) => ({ ...record, liveness: livenessOf(record, now) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export async function getAgent(kv: KV, id: string, now = Date.now()): Promise<AgentView> {
  const entry = await kv.get(agentKey(id));
  if (entry?.operation !== 'PUT') throw new AgentNotFoundError(id);
  const record = AgentRecordSchema.parse(entry.json());
  return { ...record, liveness: livenessOf(record, now) };
}

/** Registered agents matching the selector (offline ones included: their orders wait for them). */
export async function resolveTargets(kv: KV, selectorText: string): Promise<AgentView[]> {
  const selector = parseSelector(selectorText);
  const agents = await listAgents(kv);
  const targets = agents.filter((a) => matchesSelector(selector, a.labels));
  if (targets.length === 0) throw new NoTargetsError(selectorText, agents.length);
  return targets;
}

/** The registered agents named in an explicit target list, in the list's order (all must exist). */
export async function resolveAgentList(kv: KV, ids: readonly string[]): Promise<AgentView[]> {
  // Read by key, not from a listing: a key listing of a bucket being written (heartbeats every few
  // seconds) can come back without a key, and an agent named in a plan must not look unregistered.
  const now = Date.now();
  const agents = new Map<string, AgentView>();
  await Promise.all(
    [...new Set(ids)].map(async (id) => {
      const entry = await kv.get(agentKey(id));
      if (entry?.operation !== 'PUT') return;
      const parsed = AgentRecordSchema.safeParse(safeEntryJson(entry));
      if (parsed.success && parsed.data.id === id)
        agents.set(id, { ...parsed.data, liveness: livenessOf(parsed.data, now) });
    }),
  );
  const missing = ids.filter((id) => !agents.has(id));
  if (missing.length > 0)
    throw new InvalidInputError(
      'target',
      missing,
      `ids of registered agents (${missing.length} of ${ids.length} not registered; see 'drover agents')`,
    );
  return [...new Set(ids)].map((id) => agents.get(id) as AgentView);
}

function safeEntryJson(entry: { json(): unknown }): unknown {
  try {
    return entry.json();
  } catch {
    return undefined;
  }
}
