// Following a job's (or every job's) events live: agents' accepted/progress/log/result events and
// the coordinator's job events, as an async iterator, ending when the job finishes or on abort.
// Built on the resilient follower (events.ts), so a tail survives a JetStream server failure. An
// agent's event (accepted, progress, log, result) counts only when the agent's enrolled key signed
// it; anything else is marked `unverified` with the reason, so no display takes a forged progress
// line or verdict for the agent's.
import type { KeyObject } from 'node:crypto';
import {
  COORDINATOR_TOKEN,
  EVENTS_WILDCARD,
  jobEventsFilter,
  parseEventSubject,
  publicKeyFromPem,
} from '@drover/shared';
import { checkReport, readEnrollments } from './agent-keys.ts';
import { eventMessages } from './events.ts';
import { readJob } from './jobs.ts';
import type { Drover } from './nats.ts';

export interface TailEvent {
  jobId: string;
  agentId: string;
  kind: string;
  at: number;
  data: Record<string, unknown>;
  /** Set when an agent's event is not signed by its enrolled key: why (show it as such, or drop it). */
  unverified?: string;
}

export interface TailOptions {
  jobId?: string;
  /** Replay the job's events from its start (default when following one job). */
  fromStart?: boolean;
  signal?: AbortSignal;
}

/**
 * Yields events until the followed job's `finished` job event, or (following every job) until the
 * signal aborts. Throws JobNotFoundError for a job id that is not in KV: its events would never come.
 */
export async function* tailEvents(d: Drover, options: TailOptions = {}): AsyncGenerator<TailEvent> {
  if (options.jobId) await readJob(d.jobs, options.jobId);
  yield* followTail(d, options);
}

/**
 * tailEvents without the check that the job exists: for a job about to be created (a plan step that
 * just started), whose events are worth waiting for.
 */
export async function* followTail(d: Drover, options: TailOptions = {}): AsyncGenerator<TailEvent> {
  const messages = eventMessages(d, {
    filter: options.jobId ? jobEventsFilter(options.jobId) : EVENTS_WILDCARD,
    fromStart: options.fromStart ?? Boolean(options.jobId),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const keys = enrolledKeyCache(d);
  for await (const m of messages) {
    const parsed = parseEventSubject(m.subject);
    if (!parsed) continue;
    const data = eventData(m.data);
    const event: TailEvent = {
      ...parsed,
      at: typeof data.at === 'number' ? data.at : m.info.timestampNanos / 1e6,
      data,
    };
    if (parsed.agentId !== COORDINATOR_TOKEN) {
      const verdict = await keys.check(parsed.agentId, data);
      if (!verdict.ok) event.unverified = verdict.reason;
    }
    yield event;
    if (options.jobId && parsed.kind === 'job' && data.type === 'finished') break;
  }
}

/** An event's JSON object body; anything else (a malformed or non-object body) shows as `{}`. */
function eventData(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    if (error instanceof SyntaxError) return {};
    throw error;
  }
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** How often the enrolled keys are read again for an agent not found (a newly enrolled one). */
const KEY_REFRESH_MS = 5_000;

/** The enrolled keys, read once and again (at most every 5 s) when an unknown agent reports. */
function enrolledKeyCache(d: Drover) {
  let keys = new Map<string, KeyObject>();
  let readAt = 0;
  const refresh = async () => {
    readAt = Date.now();
    const next = new Map<string, KeyObject>();
    for (const [id, enrollment] of await readEnrollments(d.agentKeys))
      if (enrollment.agentId === id) next.set(id, publicKeyFromPem(enrollment.publicKeyPem, id));
    keys = next;
  };
  return {
    async check(agentId: string, body: unknown) {
      if (!keys.has(agentId) && Date.now() - readAt >= KEY_REFRESH_MS) await refresh().catch(() => {});
      return checkReport(keys, agentId, body);
    },
  };
}
