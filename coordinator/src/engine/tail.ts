// Following a job's (or every job's) events live: agents' accepted/progress/log/result events and
// the coordinator's job events, as an async iterator, ending when the job finishes or on abort.
import { EVENTS_WILDCARD, jobEventsFilter, parseEventSubject, STREAM_EVENTS } from '@drover/shared';
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

export async function* tailEvents(d: Drover, options: TailOptions = {}): AsyncGenerator<TailEvent> {
  const consumer = await d.js.consumers.get(STREAM_EVENTS, {
    filter_subjects: options.jobId ? jobEventsFilter(options.jobId) : EVENTS_WILDCARD,
    deliver_policy: (options.fromStart ?? Boolean(options.jobId)) ? 'all' : 'new',
  });
  const messages = await consumer.consume();
  const stop = () => messages.stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of messages) {
      const parsed = parseEventSubject(m.subject);
      if (!parsed) continue;
      let data: Record<string, unknown> = {};
      try {
        data = m.json() as Record<string, unknown>;
      } catch {}
      yield { ...parsed, at: typeof data.at === 'number' ? data.at : m.info.timestampNanos / 1e6, data };
      if (options.jobId && parsed.kind === 'job' && data.type === 'finished') break;
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
    messages.stop();
  }
}
