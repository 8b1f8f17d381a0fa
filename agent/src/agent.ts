// One agent: connects to NATS (reconnecting forever), registers in KV drover-agents, heartbeats,
// takes its orders (live, and read back from its cursor after a gap: intake.ts), answers live pings
// and cancel requests.
// Several agents can live in one process (benchmarks); the daemon runs one (main.ts).
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import {
  type AgentRecord,
  agentKey,
  auditSubject,
  CancelRequestSchema,
  cancelSubject,
  eventSubject,
  isValidToken,
  JournalQuerySchema,
  journalSubject,
  type KafkaProfile,
  KafkaProfileSchema,
  KV_AGENTS,
  KV_PROFILES,
  LIVE_PING_SUBJECT,
  loadOrCreateAgentKey,
  type Order,
  profileKey,
  retry,
} from '@drover/shared';
import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ServiceManager } from './clients/services/index.ts';
import type { LoadedAgentConfig } from './config.ts';
import { collectFacts, factsSummary } from './facts.ts';
import { ACCEPTED_HOLD_MS, HeldAccepted } from './held-accepted.ts';
import { startOrderIntake } from './intake.ts';
import { Journal } from './journal.ts';
import { journalPage } from './journal-page.ts';
import { createLogger, type Logger } from './log.ts';
import { startMetrics } from './metrics.ts';
import { createOrderHandler, type RunningOrders, reportOwedResults } from './orders.ts';
import { startShipper } from './shipping/shipper.ts';
import { startCassandraSignal } from './status/cassandra-signal.ts';
import type { StepImplementation } from './steps/context.ts';
import { STEP_IMPLEMENTATIONS } from './steps/index.ts';
import { AGENT_VERSION } from './version.ts';

export interface AgentOptions {
  logger?: Logger;
  /** Facts collector for registration (full facts are slow; benchmarks pass a cheap one). */
  collectFacts?: () => Promise<Record<string, unknown>>;
  /** Period of the safety-net catch-up from the orders stream (intake.ts). @default 60000 */
  catchUpEveryMs?: number;
  /**
   * The steps this agent can run, in place of its own (`STEP_IMPLEMENTATIONS`). Only code in the
   * same process can set it, never an order or the config file: the rehearsal runs agents whose
   * steps act on a simulated data plane (coordinator/src/rehearse/sim-steps.ts).
   */
  steps?: ReadonlyMap<string, StepImplementation>;
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
  const steps = options.steps ?? STEP_IMPLEMENTATIONS;
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
  // Prometheus /metrics when configured (prom-client loaded only then); no-op recorders otherwise.
  const metrics = await startMetrics(config.metrics, config.id, log);
  journal.onDatasync = (ms) => metrics.journalSynced(ms);
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
    // No stack capture per request (the coordinator's biggest CPU cost before; the agent's too).
    noAsyncTraces: true,
    waitOnFirstConnect: true,
    ...(config.nats.user ? { user: config.nats.user, pass: config.nats.pass } : {}),
    ...(config.nats.token ? { token: config.nats.token } : {}),
    ...(config.nats.tlsCaFile ? { tls: { caFile: config.nats.tlsCaFile } } : {}),
  });
  log.info('connected to NATS', { server: nc.getServer() });
  void (async () => {
    for await (const status of nc.status()) if (status.type === 'reconnect') metrics.natsReconnected();
  })();
  const js = jetstream(nc);
  const running: RunningOrders = new Map();
  // Log shipping (a no-op until local settings or the account's fleet setting name a bucket).
  const shipper = await startShipper({ config, trustedKeys, nc, logger: log });
  const auditFile = path.join(config.stateDir, 'audit.jsonl');
  let stopping = false;

  const publishEvent = (order: Pick<Order, 'jobId'>, kind: 'accepted' | 'progress' | 'log', payload: unknown) => {
    try {
      nc.publish(eventSubject(order.jobId, config.id, kind), JSON.stringify(payload));
    } catch (error) {
      log.warn('event not published', { kind, error: (error as Error).message });
    }
  };
  const accepted = new HeldAccepted(ACCEPTED_HOLD_MS, (event) => publishEvent(event, 'accepted', signer.sign(event)));
  const orderDeps = {
    agentId: config.id,
    agentVersion: AGENT_VERSION,
    labels: config.labels,
    commands: config.commands,
    trustedKeys,
    journal,
    steps,
    clockSkewMs: config.clockSkewMs,
    services,
    node: {
      cluster: config.labels.cluster,
      ...(config.kafka ? { kafka: config.kafka } : {}),
      ...(config.zookeeper ? { zookeeper: config.zookeeper } : {}),
      ...(config.cassandra ? { cassandra: config.cassandra } : {}),
    },
    profiles: { kafka: (cluster) => readKafkaProfile(nc, cluster) },
    bucket: () => shipper.bucket,
    stateDir: config.stateDir,
    logger: log,
    onFinished: metrics.orderFinished,
    maxConcurrentOrders: config.maxConcurrentOrders,
    io: {
      // Signed, so only this agent's enrolled key can finish its orders. A rejection of an order
      // that failed its checks (forged, unsigned, not for us) never takes the real result's msgID:
      // a forged copy of a live order must not make the stream drop the real result as a duplicate.
      publishResult: (result, options = {}) => {
        // The step's own result says it started: an `accepted` still held is not sent (a rejection
        // of some other message under this id leaves it alone).
        if (!options.unverified) accepted.drop(result.orderId);
        return publishDurably(
          js,
          eventSubject(result.jobId, config.id, 'result'),
          signer.sign(result),
          options.unverified
            ? `${result.orderId}-rejected-${randomUUID()}`
            : `${result.orderId}-result${result.replayed ? `-r${Date.now()}` : ''}`,
        );
      },
      publishAccepted: (event) => accepted.hold(event),
      sinks: (order) => ({
        // Signed too, so a progress bar or an output line shown to the operator is the agent's own.
        // Either tells first that the step started (its held `accepted`, sent now).
        progress: (message, percent) => {
          accepted.send(order.orderId);
          publishEvent(
            order,
            'progress',
            signer.sign({
              orderId: order.orderId,
              at: Date.now(),
              message,
              ...(percent === undefined ? {} : { percent }),
            }),
          );
        },
        output: (stream, text) => {
          accepted.send(order.orderId);
          publishEvent(order, 'log', signer.sign({ orderId: order.orderId, at: Date.now(), stream, text }));
        },
      }),
      // Kept locally too (the shipper sends it to the customer's bucket), then published.
      audit: async (record) => {
        await appendFile(auditFile, `${JSON.stringify(record)}\n`, { mode: 0o600 }).catch((error: Error) =>
          log.warn('audit record not written locally', { error: error.message }),
        );
        await publishDurably(js, auditSubject('rejected', config.id), record);
      },
    },
  } satisfies Parameters<typeof createOrderHandler>[0];
  const handle = createOrderHandler(orderDeps, running);

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
      } else if (!journal.get(request.orderId) && !journal.cancelOf(request.orderId)) {
        // Not here yet (on its way, or read back later from the stream): on record first, so it never
        // starts, then confirmed at once with a signed `cancelled` result.
        void cancelBeforeStart(request).catch((error: Error) =>
          log.warn('cancel of an order not started not recorded', { orderId: request.orderId, error: error.message }),
        );
      }
      if (msg.reply) msg.respond(JSON.stringify({ orderId: request.orderId, running: Boolean(controller) }));
    },
  });
  // `drover reconcile` after NATS lost its state: what this agent ran, from its journal, signed.
  const journalSub = nc.subscribe(journalSubject(config.id), {
    callback: (_err, msg) => {
      if (!msg.reply) return;
      let body: Record<string, unknown>;
      try {
        const query = JournalQuerySchema.parse(msg.data.length > 0 ? msg.json() : {});
        body = journalPage(journal, query, config.id, (orderId) => running.has(orderId));
      } catch (error) {
        const message = (error as Error).message.slice(0, 1000);
        log.warn('malformed journal query refused', { error: message });
        body = { agentId: config.id, at: Date.now(), total: 0, records: [], cancels: [], error: message };
      }
      msg.respond(JSON.stringify(signer.sign(body)));
    },
  });
  const cancelBeforeStart = async (request: ReturnType<typeof CancelRequestSchema.parse>) => {
    if (!isValidToken(request.orderId) || !isValidToken(request.jobId)) return;
    log.info('cancel of an order not started: it will not run', { orderId: request.orderId });
    await journal.cancel({ orderId: request.orderId, jobId: request.jobId, at: Date.now(), reason: request.reason });
    await orderDeps.io.publishResult({
      orderId: request.orderId,
      jobId: request.jobId,
      agentId: config.id,
      step: request.step ?? '',
      status: 'cancelled',
      finishedAt: Date.now(),
      error: { name: 'CancelledError', message: `cancelled before it started: ${request.reason}`, retryable: false },
    });
  };

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
    steps: [...steps.keys()],
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

  // Owed from before a restart (a step a kill interrupted, a result never acknowledged), sent in the
  // background (NATS may be away for a while) and again after every catch-up; one sending at a time.
  let owing: Promise<void> | undefined;
  const reportOwed = (): Promise<void> => {
    owing ??= reportOwedResults(orderDeps, running).finally(() => {
      owing = undefined;
    });
    return owing;
  };
  void reportOwed().catch((error: Error) =>
    log.warn('owed results not sent yet (tried again at the next catch-up)', { error: error.message }),
  );
  // Then orders: live at once, and read back from the journal's cursor (once the coordinator has
  // made the stream: until then the first catch-up is retried, and the agent is not ready).
  const jsm = await jetstreamManager(nc);
  const intake = startOrderIntake({
    agentId: config.id,
    nc,
    js,
    jsm,
    journal,
    handle,
    logger: log,
    ...(options.catchUpEveryMs ? { catchUpEveryMs: options.catchUpEveryMs } : {}),
    afterCatchUp: reportOwed,
  });
  await intake.ready;
  log.info('agent ready', { cursor: journal.cursor, steps: [...steps.keys()] });

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
      await intake.stop();
      await owing?.catch(() => {});
      // The children this agent supervises stop with it (failures are logged; stopping goes on).
      await services.stopSupervised();
      clearInterval(heartbeat);
      await cassandraSignal.stop();
      await shipper.stop();
      pingSub.unsubscribe();
      cancelSub.unsubscribe();
      journalSub.unsubscribe();
      // Best effort while shutting down: an agent that could not say `offline` shows as stale once
      // its heartbeats stop, and a connection that is already closed needs no draining.
      await kv.put(agentKey(config.id), JSON.stringify(record('offline'))).catch(() => {});
      await nc.drain().catch(() => {});
      await journal.close();
      await metrics.stop();
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
