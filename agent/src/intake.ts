// How orders reach an agent without a consumer per agent on the server (issue 12). The coordinator
// sends each order of a wave over core NATS on `drover.resend.<agentId>`, which no stream keeps, and
// stores a copy in stream DROVER_DISPATCH on `drover.order.<agentId>` only when this agent has not
// answered it within a few seconds (header Drover-Stored-Copy: a connected agent passes over the live
// delivery of such a copy; a catch-up reads it). What the live path can miss (the agent
// was down, restarting or reconnecting) it reads back from the stream, from its journaled cursor,
// through a short-lived consumer filtered on its own subject: at start, after every reconnect, and
// every `catchUpEveryMs` as a safety net. The safety net costs one direct get while the connection has
// stayed up and the newest order on the subject is one this agent already has (live delivery on an
// unbroken connection misses nothing but what a broken route between servers drops, and that shows
// as an unknown newest order); it reads from the cursor when the newest is unknown, after any
// reconnect, and every FULL_PASS_EVERY-th time regardless.
// The cursor moves past a message only once the handler has it on record (journaled as started,
// refused, or known), so a crash re-reads at most what was not recorded; the journal keeps an order
// from running twice whichever way, and however often, it arrives.
import { createHash } from 'node:crypto';
import {
  orderCatchUpConsumerName,
  orderResendSubject,
  orderSubject,
  STORED_COPY_HEADER,
  STREAM_ORDERS,
  sleep,
} from '@drover/shared';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { type Msg, type NatsConnection, nanos } from '@nats-io/transport-node';
import type { Journal } from './journal.ts';
import type { Logger } from './log.ts';
import type { OrderMessage } from './orders.ts';

export interface OrderIntakeOptions {
  agentId: string;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  journal: Journal;
  /** The order handler (orders.ts): verifies, journals, runs, reports. */
  handle: (message: OrderMessage) => Promise<void>;
  logger: Logger;
  /** Period of the safety-net catch-up (plus up to 20% jitter). @default 60000 */
  catchUpEveryMs?: number;
  /** Called after each catch-up pass (the agent re-sends results NATS never acknowledged). */
  afterCatchUp?: () => Promise<void>;
}

export interface OrderIntake {
  /** Resolves after the first catch-up has read everything up to now (retried until it could). */
  ready: Promise<void>;
  /** Reads back from the cursor now (one pass at a time; a request during a pass runs one more). */
  catchUp(): Promise<void>;
  /** Stops the subscription and the catch-ups, then waits for every order being handled. */
  stop(): Promise<void>;
}

/** A catch-up that failed (no stream yet, NATS away, the consumer limit) is tried again: 0.5 s doubling to 15 s. */
const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 15_000;
/** Messages per fetch of a catch-up consumer. */
const FETCH_BATCH = 100;
/** The server's codes for "a consumer of this name exists with another config" (the client names neither). */
const CONSUMER_EXISTS = [10148, 10013];
/** Every this many safety-net passes, one reads from the cursor even if the newest order is known. */
const FULL_PASS_EVERY = 10;
/** Live messages remembered (by digest) so a catch-up passes over them quietly: one hour. */
const LIVE_MEMORY_MS = 3_600_000;

export function startOrderIntake(options: OrderIntakeOptions): OrderIntake {
  const { agentId, nc, js, jsm, journal, handle, logger: log } = options;
  const subject = orderSubject(agentId);
  const consumerName = orderCatchUpConsumerName(agentId);
  const everyMs = options.catchUpEveryMs ?? 60_000;
  let stopping = false;
  const inFlight = new Set<Promise<void>>();
  // Messages handled live, by digest: the next catch-up reads them from the stream too and must not
  // refuse or audit them a second time (an order the journal knows is passed over by its id anyway).
  const seenLive = new Map<string, number>();
  // The last order on the subject when a pass found it at or below the cursor (deleted since, by a
  // cancel or a no-response): no consumer is made again until something newer arrives.
  let quietAt = -1;
  // Disconnects counted, and how many of them the last complete read from the cursor covered: while
  // they differ a gap may have opened (they differ until the first read).
  let gaps = 1;
  let gapsRead = 0;
  let quickPasses = 0;

  const track = (task: Promise<void>) => {
    const tracked = task
      .catch((error: Error) => log.error('order handling failed', { error: error.message }))
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const onLive = (asked: boolean) => (error: Error | null, msg: Msg) => {
    if (error) {
      log.warn('order subscription error', { error: error.message });
      return;
    }
    if (stopping) return;
    // A copy stored for this agent to read back: it had the order over core NATS, or its catch-up
    // reads this copy (a second live copy of an order being handled would only cost a replay audit).
    if (!asked && msg.headers?.get(STORED_COPY_HEADER) === '1') return;
    seenLive.set(digest(msg.data), Date.now());
    track(handle({ data: msg.data, recorded: () => {}, asked }));
  };
  // The stored publish, and the coordinator's copies of it: while this agent has not taken it, and
  // while it has not seen its result (it asks; the journal answers a finished one with its result).
  const live = [
    nc.subscribe(subject, { callback: onLive(false) }),
    nc.subscribe(orderResendSubject(agentId), { callback: onLive(true) }),
  ];

  /** Hands one stored message to the handler; resolves once it is recorded, rejects if handling failed first. */
  const handOver = (data: Uint8Array): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const task = handle({ data, recorded: resolve });
      task.then(resolve, reject);
      track(task);
    });

  /** Whether a stored message was already handled here (live, or journaled by its order id). */
  const known = (data: Uint8Array, options: { forget: boolean }): boolean => {
    const key = digest(data);
    if (seenLive.has(key)) {
      if (options.forget) seenLive.delete(key);
      return true;
    }
    const orderId = orderIdOf(data);
    return orderId !== undefined && (journal.get(orderId) !== undefined || journal.cancelOf(orderId) !== undefined);
  };

  /** One pass: is anything newer than the cursor? If so, read it through a consumer and hand it over. */
  async function pass(): Promise<void> {
    const gapsNow = gaps;
    const last = await jsm.direct.getMessage(STREAM_ORDERS, { last_by_subj: subject });
    if (!last || last.seq === journal.cursor || last.seq === quietAt) {
      gapsRead = gapsNow; // nothing on the subject past what was read
      return;
    }
    // Connected throughout and the newest order is one this agent has: nothing to read (the cursor
    // stays; the next full pass moves it past what was taken live).
    if (gapsRead === gaps && quickPasses < FULL_PASS_EVERY && known(last.data, { forget: false })) {
      quickPasses++;
      return;
    }
    // Newer than the cursor: read from it. Older: the last order on this subject was deleted (a
    // cancel, a no-response), or the stream was made again and its sequences restarted; the
    // consumer tells which.
    let start = journal.cursor + 1;
    let info = await createConsumer(start);
    if (info.delivered.stream_seq < journal.cursor) {
      log.warn('the orders stream was made again: reading it from its start', { cursor: journal.cursor });
      await deleteConsumer();
      await journal.advanceCursor(0);
      start = 1;
      info = await createConsumer(start);
    }
    try {
      let pending = info.num_pending;
      const consumer = js.consumers.getConsumerFromInfo(info);
      while (pending > 0 && !stopping) {
        const batch = await consumer.fetch({ max_messages: Math.min(pending, FETCH_BATCH), expires: 5000 });
        let lastRead = 0;
        for await (const m of batch) {
          if (!known(m.data, { forget: true })) await handOver(m.data);
          lastRead = m.seq;
          pending = m.info.pending;
        }
        if (lastRead === 0) throw new Error(`catch-up read nothing of ${pending} pending order message(s)`);
        await journal.advanceCursor(lastRead);
      }
    } finally {
      await deleteConsumer();
    }
    if (last.seq <= journal.cursor) quietAt = last.seq;
    gapsRead = gapsNow;
    quickPasses = 0;
    const cutoff = Date.now() - LIVE_MEMORY_MS;
    for (const [key, at] of seenLive) if (at < cutoff) seenLive.delete(key);
  }

  // Named after the agent, in memory, without acks, removed after a pass (and by the server
  // after a minute unused, if the agent died mid-pass): no lasting state on the server.
  const createConsumer = async (start: number) => {
    const config = {
      name: consumerName,
      filter_subject: subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
      ack_policy: AckPolicy.None,
      inactive_threshold: nanos(60_000),
      mem_storage: true,
      num_replicas: 1,
    };
    try {
      return await jsm.consumers.add(STREAM_ORDERS, config);
    } catch (error) {
      // One left by a pass this agent did not finish (killed): made again from this cursor.
      if (!(error instanceof JetStreamApiError && CONSUMER_EXISTS.includes(error.code))) throw error;
      await deleteConsumer();
      return jsm.consumers.add(STREAM_ORDERS, config);
    }
  };
  const deleteConsumer = () =>
    jsm.consumers.delete(STREAM_ORDERS, consumerName).then(
      () => undefined,
      (error: Error) => {
        // Already gone is fine; anything else is left to the server's inactivity threshold.
        if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound))
          log.warn('catch-up consumer not deleted (the server drops it after a minute)', { error: error.message });
      },
    );

  // One pass at a time; a request during a pass asks for one more after it (a reconnect mid-pass).
  let running: Promise<void> | undefined;
  let again = false;
  const catchUp = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await passUntilDone();
        // Not awaited: NATS may be slow to take results, and orders must not wait for that.
        void options
          .afterCatchUp?.()
          .catch((error: Error) =>
            log.warn('owed results not sent yet (tried again at the next catch-up)', { error: error.message }),
          );
      } while (again && !stopping);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const passUntilDone = async () => {
    let waitMs = RETRY_INITIAL_MS;
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await pass();
        return;
      } catch (error) {
        if (attempt % 10 === 1)
          log.warn('order catch-up failed; trying again', { error: (error as Error).message, attempt });
        // Jittered, so a fleet that lost its server together does not come back in lockstep.
        await sleep(waitMs * (0.5 + Math.random()));
        waitMs = Math.min(waitMs * 2, RETRY_MAX_MS);
      }
    }
  };

  void (async () => {
    for await (const status of nc.status())
      if ((status.type === 'reconnect' || status.type === 'disconnect') && !stopping) {
        gaps++;
        if (status.type === 'reconnect') void catchUp();
      }
  })();
  const timer = setInterval(() => void catchUp(), everyMs * (1 + Math.random() * 0.2));
  timer.unref();
  // The subscription is on the server before the first pass reads: nothing falls between the two.
  const ready = nc.flush().then(() => catchUp());

  return {
    ready,
    catchUp,
    async stop() {
      stopping = true;
      clearInterval(timer);
      for (const sub of live) sub.unsubscribe();
      await running?.catch(() => {});
      await Promise.allSettled([...inFlight]);
    },
  };
}

function digest(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64');
}

/** The order id a message claims, or undefined (the handler judges the message; this only skips). */
function orderIdOf(data: Uint8Array): string | undefined {
  try {
    const id = (JSON.parse(new TextDecoder().decode(data)) as { orderId?: unknown } | null)?.orderId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
