// One agent: connects to NATS (reconnecting forever), registers in KV drover-agents, heartbeats,
// consumes its orders from its durable consumer, answers live pings and cancel requests.
// Several agents can live in one process (benchmarks); the daemon runs one (main.ts).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import {
  type AgentRecord,
  agentKey,
  auditSubject,
  CancelRequestSchema,
  cancelSubject,
  eventSubject,
  type KafkaProfile,
  KafkaProfileSchema,
  KV_AGENTS,
  KV_PROFILES,
  LIVE_PING_SUBJECT,
  loadOrCreateAgentKey,
  type Order,
  orderConsumerName,
  orderSubject,
  profileKey,
  retry,
  STREAM_ORDERS,
  sleep,
} from '@drover/shared';
import { type ConsumerMessages, type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { ServiceManager } from './clients/services/index.ts';
import type { LoadedAgentConfig } from './config.ts';
import { collectFacts, factsSummary } from './facts.ts';
import { Journal } from './journal.ts';
import { createLogger, type Logger } from './log.ts';
import { createOrderHandler, type RunningOrders } from './orders.ts';
import { startCassandraSignal } from './status/cassandra-signal.ts';
import { STEP_IMPLEMENTATIONS } from './steps/index.ts';
import { AGENT_VERSION } from './version.ts';

export interface AgentOptions {
  logger?: Logger;
  /** Facts collector for registration (full facts are slow; benchmarks pass a cheap one). */
  collectFacts?: () => Promise<Record<string, unknown>>;
}

export interface AgentHandle {
  id: string;
  connection: NatsConnection;
  /** Stops taking orders, waits for running ones to finish, marks itself offline, closes. */
  stop(): Promise<void>;
  /** Resolves when the agent has stopped (on stop() or a fatal error). */
  done: Promise<void>;
}

export async function startAgent(loaded: LoadedAgentConfig, options: AgentOptions = {}): Promise<AgentHandle> {
  const { config, trustedKeys } = loaded;
  const log = (options.logger ?? createLogger()).child({ agentId: config.id });
  // The node's services by name (config `services`); process-managed ones are this agent's
  // children. Made first: a config it refuses (ConfigError) stops the agent before anything is opened.
  const services = new ServiceManager({
    services: config.services,
    stateDir: config.stateDir,
    systemctlPath: config.systemctlPath,
    logger: log.child({ component: 'services' }),
  });
  const journal = await Journal.open(config.stateDir);
  // The agent's own key: every accepted event and result it publishes is signed with it.
  const keyFile = config.signingKeyFile ?? path.join(config.stateDir, 'agent-key.pem');
  const { signer, created } = loadOrCreateAgentKey(keyFile);
  log.info(created ? 'made a signing key (enrol it: drover agent enroll)' : 'signing key loaded', {
    keyId: signer.keyId,
    publicKeyFile: `${keyFile}.pub`,
  });
  const nc = await connect({
    servers: config.nats.servers,
    name: `drover-agent-${config.id}`,
    // A per-agent inbox prefix lets NATS permissions give each agent only its own replies.
    inboxPrefix: `_INBOX_${config.id}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
    ...(config.nats.user ? { user: config.nats.user, pass: config.nats.pass } : {}),
    ...(config.nats.token ? { token: config.nats.token } : {}),
    ...(config.nats.tlsCaFile ? { tls: { caFile: config.nats.tlsCaFile } } : {}),
  });
  log.info('connected to NATS', { server: nc.getServer() });
  const js = jetstream(nc);
  const running: RunningOrders = new Map();
  let stopping = false;

  const publishEvent = (order: Pick<Order, 'jobId'>, kind: 'accepted' | 'progress' | 'log', payload: unknown) => {
    try {
      nc.publish(eventSubject(order.jobId, config.id, kind), JSON.stringify(payload));
    } catch (error) {
      log.warn('event not published', { kind, error: (error as Error).message });
    }
  };
  const handle = createOrderHandler(
    {
      agentId: config.id,
      agentVersion: AGENT_VERSION,
      labels: config.labels,
      commands: config.commands,
      trustedKeys,
      journal,
      steps: STEP_IMPLEMENTATIONS,
      clockSkewMs: config.clockSkewMs,
      services,
      node: {
        cluster: config.labels.cluster,
        ...(config.kafka ? { kafka: config.kafka } : {}),
        ...(config.zookeeper ? { zookeeper: config.zookeeper } : {}),
        ...(config.cassandra ? { cassandra: config.cassandra } : {}),
      },
      profiles: { kafka: (cluster) => readKafkaProfile(nc, cluster) },
      logger: log,
      io: {
        // Signed, so only this agent's enrolled key can finish its orders. A rejection of an order
        // that failed its checks (forged, unsigned, not for us) never takes the real result's msgID:
        // a forged copy of a live order must not make the stream drop the real result as a duplicate.
        publishResult: (result, options = {}) =>
          publishDurably(
            js,
            eventSubject(result.jobId, config.id, 'result'),
            signer.sign(result),
            options.unverified
              ? `${result.orderId}-rejected-${randomUUID()}`
              : `${result.orderId}-result${result.replayed ? `-r${Date.now()}` : ''}`,
          ),
        publishAccepted: (event) => publishEvent(event, 'accepted', signer.sign(event)),
        sinks: (order) => ({
          progress: (message, percent) =>
            publishEvent(order, 'progress', {
              orderId: order.orderId,
              at: Date.now(),
              message,
              ...(percent === undefined ? {} : { percent }),
            }),
          output: (stream, text) =>
            publishEvent(order, 'log', { orderId: order.orderId, at: Date.now(), stream, text }),
        }),
        audit: (record) => publishDurably(js, auditSubject('rejected', config.id), record),
      },
    },
    running,
    config.ackWaitMs / 3,
  );

  // Live queries and cancel requests are core NATS: they only matter while the agent is up.
  const pingSub = nc.subscribe(LIVE_PING_SUBJECT, {
    callback: (_err, msg) => {
      msg.respond(JSON.stringify({ id: config.id, version: AGENT_VERSION, labels: config.labels, at: Date.now() }));
    },
  });
  const cancelSub = nc.subscribe(cancelSubject(config.id), {
    callback: (_err, msg) => {
      let request: ReturnType<typeof CancelRequestSchema.parse>;
      try {
        request = CancelRequestSchema.parse(msg.json());
      } catch {
        log.warn('malformed cancel request ignored');
        return;
      }
      const controller = running.get(request.orderId);
      if (controller) {
        log.info('cancel requested', { orderId: request.orderId });
        controller.abort(new Error(`cancelled: ${request.reason}`));
      }
      if (msg.reply) msg.respond(JSON.stringify({ orderId: request.orderId, running: Boolean(controller) }));
    },
  });

  const kv = await openWhenReady(nc, log);
  const startedAt = Date.now();
  const collect = options.collectFacts ?? (config.registerFullFacts ? fullFacts : summaryFacts);
  const facts = await collect().catch((error: Error) => {
    log.warn('facts collection failed; registering without them', { error: error.message });
    return { hostname: hostname() };
  });
  const record = (status: AgentRecord['status']): AgentRecord => ({
    id: config.id,
    labels: config.labels,
    version: AGENT_VERSION,
    startedAt,
    lastSeen: Date.now(),
    heartbeatMs: config.heartbeatMs,
    status,
    steps: [...STEP_IMPLEMENTATIONS.keys()],
    facts,
    keyId: signer.keyId,
  });
  await kv.put(agentKey(config.id), JSON.stringify(record('online')));
  const heartbeat = setInterval(() => {
    kv.put(agentKey(config.id), JSON.stringify(record('online'))).catch((error: Error) =>
      log.warn('heartbeat failed', { error: error.message }),
    );
  }, config.heartbeatMs);
  // The Cassandra node-status signal (a no-op unless this node runs Cassandra and has a cluster label).
  const cassandraSignal = await startCassandraSignal({ nc, config, logger: log });

  // The durable consumer outlives the agent: orders published while it is down wait for it.
  const jsm = await jetstreamManager(nc);
  const durable = orderConsumerName(config.id);
  const consumerConfig = {
    durable_name: durable,
    filter_subject: orderSubject(config.id),
    ack_policy: 'explicit',
    deliver_policy: 'all',
    ack_wait: nanos(config.ackWaitMs),
    max_ack_pending: config.maxConcurrentOrders,
    max_deliver: -1,
  } as const;
  // Until the stream exists (the coordinator creates it) and its leader answers: retried forever.
  const ensureConsumer = () =>
    retry(
      async () => {
        if (stopping) return;
        try {
          await jsm.consumers.add(STREAM_ORDERS, consumerConfig);
        } catch (error) {
          // An existing durable made with other settings (e.g. a new ackWaitMs) is updated in place.
          // If that fails too, the add's error is the one that says why (no stream, no leader).
          const updated = await jsm.consumers
            .update(STREAM_ORDERS, durable, {
              ack_wait: consumerConfig.ack_wait,
              max_ack_pending: consumerConfig.max_ack_pending,
            })
            .then(
              () => true,
              () => false,
            );
          if (!updated) throw error;
        }
      },
      {
        ...WAIT_FOR_COORDINATOR,
        onRetry: (error, attempt) => {
          if (attempt % 10 === 0)
            log.warn(`waiting to create consumer ${durable} on ${STREAM_ORDERS}`, { error: (error as Error).message });
        },
      },
    );
  await ensureConsumer();
  const inFlight = new Set<Promise<void>>();
  let messages: ConsumerMessages | undefined;
  const loop = (async () => {
    while (!stopping) {
      let current: ConsumerMessages;
      try {
        const consumer = await js.consumers.get(STREAM_ORDERS, durable);
        // Pulls expire every 15 s with heartbeats every 5 s: after a JetStream server dies, a pull
        // parked on it is noticed and replaced within ~10 s instead of the client's default ~30 s.
        current = await consumer.consume({
          max_messages: config.maxConcurrentOrders,
          expires: 15_000,
          idle_heartbeat: 5_000,
        });
      } catch (error) {
        log.warn(`order consumer ${durable} unavailable; creating it again`, { error: (error as Error).message });
        await sleep(1000);
        await ensureConsumer();
        continue;
      }
      messages = current;
      if (stopping) current.stop();
      // The consumer (or the whole orders stream) deleted, e.g. a stream re-created by an operator:
      // the client would pull from nothing forever, so the consumer is made again and consumed anew.
      void (async () => {
        for await (const status of current.status()) {
          if (
            status.type === 'consumer_deleted' ||
            status.type === 'consumer_not_found' ||
            status.type === 'stream_not_found'
          ) {
            log.warn(`order consumer ${durable} lost (${status.type}); creating it again`);
            current.stop();
            return;
          }
        }
      })();
      for await (const m of current) {
        const task = handle({
          data: m.data,
          working: () => m.working(), // A lost ack only means a redelivery, which the journal answers without running the step again.
          ack: async () => m.ack(),
        })
          .catch((error: Error) =>
            log.error('order handling failed; it will be redelivered', { error: error.message, seq: m.seq }),
          )
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
      }
      if (!stopping) await ensureConsumer();
    }
  })();
  log.info('agent ready', { durable, steps: [...STEP_IMPLEMENTATIONS.keys()] });

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  return {
    id: config.id,
    connection: nc,
    done,
    async stop() {
      if (stopping) return done;
      stopping = true;
      messages?.stop();
      // The loop only runs handlers (each catches its own errors); whatever ended it, stopping goes on.
      await loop.catch(() => {});
      await Promise.allSettled([...inFlight]);
      // The children this agent supervises stop with it (failures are logged; stopping goes on).
      await services.stopSupervised();
      clearInterval(heartbeat);
      await cassandraSignal.stop();
      pingSub.unsubscribe();
      cancelSub.unsubscribe();
      // Best effort while shutting down: an agent that could not say `offline` shows as stale once
      // its heartbeats stop, and a connection that is already closed needs no draining.
      await kv.put(agentKey(config.id), JSON.stringify(record('offline'))).catch(() => {});
      await nc.drain().catch(() => {});
      await journal.close();
      log.info('agent stopped');
      resolveDone();
    },
  };
}

/** Waiting for what the coordinator creates (the agents bucket, the orders stream): once a second. */
const WAIT_FOR_COORDINATOR = { initialMs: 1000, maxMs: 1000 } as const;
/** A result or audit record: 61 attempts, 0.25 s doubling to 4 s between them (about 4 minutes). */
const DURABLE_PUBLISH = { attempts: 61, initialMs: 250, maxMs: 4000 } as const;

async function publishDurably(js: JetStreamClient, subject: string, payload: unknown, msgID?: string): Promise<void> {
  // Retries until the stream acknowledges: a result must not be lost while NATS restarts. Past the
  // budget the error goes to the caller (the order handler), which leaves the order unacked so
  // JetStream redelivers it and the journal publishes the result again.
  await retry(
    () => js.publish(subject, JSON.stringify(payload), msgID ? { msgID, timeout: 5000 } : { timeout: 5000 }),
    DURABLE_PUBLISH,
  );
}

/** The coordinator creates the bucket; an agent that starts first waits for it. */
async function openWhenReady(nc: NatsConnection, log: Logger): Promise<KV> {
  const kvm = new Kvm(nc);
  return retry(
    async () => {
      const kv = await kvm.open(KV_AGENTS);
      await kv.status();
      return kv;
    },
    {
      ...WAIT_FOR_COORDINATOR,
      onRetry: (error, attempt) => {
        if (attempt % 10 === 0)
          log.warn(`waiting for KV bucket ${KV_AGENTS} (run any drover command to create it)`, {
            error: (error as Error).message,
          });
      },
    },
  );
}

async function fullFacts(): Promise<Record<string, unknown>> {
  return (await collectFacts()) as unknown as Record<string, unknown>;
}

async function summaryFacts(): Promise<Record<string, unknown>> {
  return factsSummary() as unknown as Record<string, unknown>;
}

/** A cluster's Kafka profile from KV drover-profiles (read when a step needs it, never cached). */
async function readKafkaProfile(nc: NatsConnection, cluster: string): Promise<KafkaProfile | undefined> {
  const kv = await new Kvm(nc).open(KV_PROFILES);
  const entry = await kv.get(profileKey('kafka', cluster));
  return entry?.operation === 'PUT' ? KafkaProfileSchema.parse(entry.json()) : undefined;
}
