// Following a stream of events without losing any, through server failures. The client's ordered
// consumer normally recreates itself, but after a JetStream server dies in a cluster it was seen to
// stall (nats-server 2.9.10): so this follower tracks the last stream sequence it handled, and when
// heartbeats go missing or the iterator ends, it starts a new ordered consumer right after it.
// The one follower of the events stream: `eventMessages` is the async-iterator form (`drover tail`),
// `followEvents` the callback form for a loop that must never wait on the stream (the job driver).
import { STREAM_EVENTS, sleep } from '@drover/shared';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Drover } from './nats.ts';

/** Silence after which the consumer is recreated from the next sequence. */
const QUIET_RESTART_MS = 15_000;
/** A backlog count older than this is not trusted (Follower.backlog). */
const BACKLOG_STALE_MS = 5000;
/** Pause before a new consumer after the last one failed or ended. */
const RESTART_PAUSE_MS = 250;

export interface FollowOptions {
  /** Subjects on the events stream (`jobEventsFilter(jobId)`, or `EVENTS_WILDCARD` for every job). */
  filter: string;
  /** From the first event on the stream (true) or only new ones (false). */
  fromStart: boolean;
  /** Ends the iteration: the iterator returns (it does not throw). */
  signal?: AbortSignal;
  /**
   * Called once, when every event stored under `filter` when the follower started has been handled
   * (the consumer had nothing left to deliver): a resumed coordinator judges deadlines only then.
   */
  onCaughtUp?: () => void;
  /** Told, with each message, how many more under `filter` the stream holds for this follower. */
  onPending?: (pending: number) => void;
}

/**
 * The stream's messages under `filter`, in stream order, each once, across consumer restarts.
 * Never ends by itself: only when `signal` aborts or the caller stops iterating.
 */
export async function* eventMessages(d: Drover, options: FollowOptions): AsyncGenerator<JsMsg, void, undefined> {
  const { signal } = options;
  let nextSeq = 0;
  // When the stream was made: another value later means it was deleted and made again (its
  // sequences start over), so the next consumer starts at its beginning instead of at nextSeq.
  let streamCreated: string | undefined;
  let caughtUp = false;
  const caught = () => {
    if (caughtUp) return;
    caughtUp = true;
    options.onCaughtUp?.();
  };
  while (!signal?.aborted) {
    let messages: ConsumerMessages;
    try {
      const { created } = await d.jsm.streams.info(STREAM_EVENTS);
      if (streamCreated !== undefined && created !== streamCreated && nextSeq > 0) nextSeq = 1;
      streamCreated = created;
      const consumer = await d.js.consumers.get(STREAM_EVENTS, {
        filter_subjects: options.filter,
        ...(nextSeq > 0
          ? { deliver_policy: 'by_start_sequence', opt_start_seq: nextSeq }
          : { deliver_policy: options.fromStart ? 'all' : 'new' }),
      });
      messages = await consumer.consume({ idle_heartbeat: 2000, expires: 10_000 });
      // Nothing left to deliver, and nothing delivered that is not handled yet: caught up (an empty
      // backlog sends no message whose `pending` could say so).
      if (!caughtUp)
        void consumer
          .info()
          .then((info) => {
            if (info.num_pending === 0 && info.delivered.stream_seq <= Math.max(0, nextSeq - 1)) caught();
          })
          .catch(() => {});
    } catch {
      // The stream or its leader is away (any failure to create the consumer means the same thing
      // here): nothing was read, so trying again from nextSeq loses and repeats nothing.
      if (!(await pause(RESTART_PAUSE_MS, signal))) return;
      continue;
    }
    const stop = () => messages.stop();
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    void (async () => {
      for await (const status of messages.status()) {
        if (status.type === 'heartbeats_missed' && status.count >= 2) messages.stop();
      }
    })();
    // Belt and braces: after a quiet spell, start afresh from the next sequence (costs one
    // consumer creation; loses and repeats nothing).
    let lastMessageAt = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastMessageAt > QUIET_RESTART_MS) messages.stop();
    }, 1000);
    try {
      for await (const m of messages) {
        lastMessageAt = Date.now();
        nextSeq = m.seq + 1;
        options.onPending?.(m.info.pending);
        yield m;
        // Handled (the caller asked for the next one): the last of the backlog?
        if (m.info.pending === 0) caught();
      }
    } catch {
      // The consumer failed mid-stream (its server died, the stream was recreated): every message
      // handed out is behind nextSeq, so the next consumer resumes exactly after it.
    } finally {
      clearInterval(watchdog);
      signal?.removeEventListener('abort', stop);
      messages.stop();
    }
    if (!(await pause(RESTART_PAUSE_MS, signal))) return;
  }
}

/** Waits `ms`; false when the signal aborted instead (sleep rejects only with the abort reason). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return sleep(ms, signal).then(
    () => true,
    () => false,
  );
}

export interface Follower {
  stop(): Promise<void>;
  /**
   * How many events the stream held for this follower, not yet delivered, as of the last one
   * delivered: above 0, answers may be waiting to be read (a coordinator behind its events).
   */
  backlog(): number;
}

/**
 * Calls `onMessage` for each message of `eventMessages` until stop(). A throwing `onMessage` is
 * reported as a process warning and the follower goes on with the next message.
 */
export function followEvents(
  d: Drover,
  options: Omit<FollowOptions, 'signal'> & { onMessage(m: JsMsg): void },
): Follower {
  const abort = new AbortController();
  let pending = 0;
  let pendingAt = 0;
  const run = (async () => {
    for await (const m of eventMessages(d, {
      filter: options.filter,
      fromStart: options.fromStart,
      signal: abort.signal,
      onPending: (n) => {
        pending = n;
        pendingAt = Date.now();
      },
      ...(options.onCaughtUp ? { onCaughtUp: options.onCaughtUp } : {}),
    })) {
      try {
        options.onMessage(m);
      } catch (error) {
        process.emitWarning(`event ${m.subject} #${m.seq} not handled: ${(error as Error)?.message ?? error}`);
      }
    }
  })();
  return {
    async stop() {
      abort.abort();
      await run;
    },
    // A count not refreshed for a while is no backlog being read (a stalled or restarted consumer):
    // whoever holds work back while behind must not hold it forever on a stale count.
    backlog: () => (Date.now() - pendingAt > BACKLOG_STALE_MS ? 0 : pending),
  };
}
