// Following a stream of events without losing any, through server failures. The client's ordered
// consumer normally recreates itself, but after a JetStream server dies in a cluster it was seen to
// stall (nats-server 2.9.10): so this follower tracks the last stream sequence it handled, and when
// heartbeats go missing or the iterator ends, it starts a new ordered consumer right after it.
import { STREAM_EVENTS } from '@drover/shared';
import type { JsMsg } from '@nats-io/jetstream';
import type { Drover } from './nats.ts';

/** Silence after which the consumer is recreated from the next sequence. */
const QUIET_RESTART_MS = 15_000;

export interface FollowOptions {
  filter: string;
  /** From the first event on the stream (true) or only new ones (false). */
  fromStart: boolean;
  onMessage(m: JsMsg): void;
}

export interface Follower {
  stop(): Promise<void>;
}

export function followEvents(d: Drover, options: FollowOptions): Follower {
  let nextSeq = 0;
  let stopped = false;
  let current: { stop(): void } | undefined;
  const run = (async () => {
    while (!stopped) {
      try {
        const consumer = await d.js.consumers.get(STREAM_EVENTS, {
          filter_subjects: options.filter,
          ...(nextSeq > 0
            ? { deliver_policy: 'by_start_sequence', opt_start_seq: nextSeq }
            : { deliver_policy: options.fromStart ? 'all' : 'new' }),
        });
        const messages = await consumer.consume({ idle_heartbeat: 2000, expires: 10_000 });
        current = messages;
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
            options.onMessage(m);
          }
        } finally {
          clearInterval(watchdog);
        }
      } catch {
        // the stream or its leader is away: try again shortly
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    async stop() {
      stopped = true;
      current?.stop();
      await run;
    },
  };
}
