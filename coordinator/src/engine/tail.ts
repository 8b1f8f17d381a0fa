// Following a job's (or every job's) events live: agents' accepted/progress/log/result events and
// the coordinator's job events, as an async iterator, ending when the job finishes or on abort.
// Built on the resilient follower (events.ts), so a tail survives a JetStream server failure.
import { EVENTS_WILDCARD, jobEventsFilter, parseEventSubject } from '@drover/shared';
import { eventMessages } from './events.ts';
import { readJob } from './jobs.ts';
import type { Drover } from './nats.ts';

export interface TailEvent {
  jobId: string;
  agentId: string;
  kind: string;
  at: number;
  data: Record<string, unknown>;
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
  const messages = eventMessages(d, {
    filter: options.jobId ? jobEventsFilter(options.jobId) : EVENTS_WILDCARD,
    fromStart: options.fromStart ?? Boolean(options.jobId),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  for await (const m of messages) {
    const parsed = parseEventSubject(m.subject);
    if (!parsed) continue;
    const data = eventData(m.data);
    yield { ...parsed, at: typeof data.at === 'number' ? data.at : m.info.timestampNanos / 1e6, data };
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
