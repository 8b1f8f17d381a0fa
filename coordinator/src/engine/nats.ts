// The coordinator's NATS side: connect, and make sure the streams and buckets Drover relies on
// exist with the settings that make it durable (the audit stream denies delete and purge).
import {
  AUDIT_WILDCARD,
  EVENTS_WILDCARD,
  KV_AGENT_KEYS,
  KV_AGENTS,
  KV_JOBS,
  KV_NODE_STATUS,
  KV_RUNS,
  KV_SHIPPING,
  KV_SHIPPING_STATUS,
  LEGACY_STREAM_ORDERS,
  ORDERS_WILDCARD,
  STATUS_TTL_MS,
  STREAM_AUDIT,
  STREAM_EVENTS,
  STREAM_ORDERS,
} from '@drover/shared';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { NatsUnavailableError } from './errors.ts';
import { shareCancelledRequestError } from './nats-requests.ts';
import { retryTransient } from './retry.ts';

export interface NatsOptions {
  /** NATS server URLs. @default ['nats://127.0.0.1:4222'] or $DROVER_NATS (comma-separated) */
  servers: string[];
  user?: string;
  pass?: string;
  /** CA certificate file (PEM): connect with TLS and check the servers' certificates against it. */
  tlsCaFile?: string;
  token?: string;
  /** Give up connecting after this long (a CLI must not hang on a server that is down). @default 5000 */
  connectTimeoutMs?: number;
  /**
   * Replicas of the streams and buckets Drover creates (3 on a JetStream cluster).
   * @default $DROVER_STREAM_REPLICAS or 1
   */
  replicas?: number;
  /**
   * Read only (`drover serve`): create nothing, open the streams and buckets that exist. With the
   * shipped VIEWER identity nothing else is allowed anyway.
   */
  readOnly?: boolean;
  /** Inbox prefix for replies (the VIEWER identity may subscribe to `_INBOX_viewer.>` only). */
  inboxPrefix?: string;
}

export interface Drover {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  agents: KV;
  /** Enrolled agent keys (agent-keys.ts). */
  agentKeys: KV;
  jobs: KV;
  runs: KV;
  /** Opened read-only: creates nothing (see NatsOptions.readOnly). */
  readOnly?: boolean;
  close(): Promise<void>;
}

export function defaultServers(): string[] {
  return (process.env.DROVER_NATS ?? 'nats://127.0.0.1:4222')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const DAY_NS = nanos(24 * 3600 * 1000);

const STREAMS: (Partial<StreamConfig> & { name: string })[] = [
  {
    // No consumer per agent (issue 12: past 1,000 agents a current server refuses them, and on a
    // work-queue stream every ack walked all of them). Orders stay until they are older than the
    // longest delivery timeout (7 days) plus a day, so an agent away for up to that long reads its
    // order back from its cursor; an expired one it refuses and the coordinator has ended anyway.
    name: STREAM_ORDERS,
    subjects: [ORDERS_WILDCARD],
    retention: 'limits',
    storage: 'file',
    // A retried publish of the same order id within this window is dropped by the server.
    duplicate_window: nanos(30 * 60 * 1000),
    max_msg_size: 256 * 1024,
    max_age: 8 * DAY_NS,
    // Only short-lived catch-up consumers (one per agent reading back after a gap); set explicitly,
    // because a current server's default cap (1,000, which -1 does not lift) would refuse a burst
    // of reconnecting agents.
    max_consumers: 1_000_000,
    // Lets an agent ask cheaply "is anything newer than my cursor?" (the last order on its own
    // subject, a request whose subject names that subject, so permissions can restrict it).
    allow_direct: true,
  },
  {
    name: STREAM_EVENTS,
    subjects: [EVENTS_WILDCARD],
    retention: 'limits',
    storage: 'file',
    duplicate_window: nanos(5 * 60 * 1000),
    // Progress and output events are small (the agent chunks output at 16 KiB); a step's result can
    // be big (kafka.describe of a cluster: ~200 bytes per partition), up to NATS's 1 MiB payload.
    max_msg_size: 1024 * 1024,
    max_age: 14 * DAY_NS,
    // Reserved against the account's JetStream storage: keep it modest; old events go first.
    max_bytes: 256 * 1024 ** 2,
    discard: 'old',
  },
  {
    name: STREAM_AUDIT,
    subjects: [AUDIT_WILDCARD],
    retention: 'limits',
    storage: 'file',
    deny_delete: true,
    deny_purge: true,
    max_msg_size: 64 * 1024,
    duplicate_window: nanos(30 * 60 * 1000),
  },
];

export async function connectDrover(options: NatsOptions, name = 'drover-coordinator'): Promise<Drover> {
  shareCancelledRequestError();
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name,
      timeout: options.connectTimeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // Without it the client builds an Error (a stack capture) for every request it sends: 31% of the
      // coordinator's CPU in a 2,129-target fan-out (issue 12). Timeouts still say what timed out.
      noAsyncTraces: true,
      ...(options.user ? { user: options.user, pass: options.pass } : {}),
      ...(options.tlsCaFile ? { tls: { caFile: options.tlsCaFile } } : {}),
      ...(options.token ? { token: options.token } : {}),
      ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
    });
  } catch (cause) {
    throw new NatsUnavailableError(options.servers, cause);
  }
  try {
    // A server going away or a JetStream leader election while we set up: tried again for a minute.
    // "No responders" for 10 s only: a cluster server just restarted answers so until its JetStream
    // runs, but so does a server without JetStream, which must be told soon.
    return await retryTransient(() => openJetStream(nc, options), 60_000, { noRespondersForMs: 10_000 });
  } catch (error) {
    // Connected, but JetStream or a bucket failed: do not leave the connection open behind the error.
    await nc.close().catch(() => {});
    throw error;
  }
}

/** JetStream, the streams and the buckets on a connection (made if missing, unless read-only). */
async function openJetStream(nc: NatsConnection, options: NatsOptions): Promise<Drover> {
  const replicas = options.replicas ?? Number(process.env.DROVER_STREAM_REPLICAS ?? 1);
  const jsm = await jetstreamManager(nc);
  const kvm = new Kvm(nc);
  if (options.readOnly) {
    const [agents, agentKeys, jobs, runs] = await Promise.all([
      kvm.open(KV_AGENTS),
      kvm.open(KV_AGENT_KEYS),
      kvm.open(KV_JOBS),
      kvm.open(KV_RUNS),
    ]);
    return {
      nc,
      js: jetstream(nc),
      jsm,
      agents,
      agentKeys,
      jobs,
      runs,
      readOnly: true,
      close: () => nc.drain(),
    };
  }
  await ensureStreams(jsm, replicas);
  const [agents, agentKeys, jobs, runs] = await Promise.all([
    kvm.create(KV_AGENTS, { history: 1, storage: 'file', replicas }),
    kvm.create(KV_AGENT_KEYS, { history: 5, storage: 'file', replicas }),
    kvm.create(KV_JOBS, { history: 5, storage: 'file', replicas }),
    kvm.create(KV_RUNS, { history: 1, storage: 'file', replicas }),
    // Written by the agents (their Cassandra node's status), which may not create buckets.
    kvm.create(KV_NODE_STATUS, { history: 1, ttl: STATUS_TTL_MS, storage: 'file', replicas }),
    // Log shipping: the accounts' fleet settings (agents read them) and every shipper's status.
    kvm.create(KV_SHIPPING, { history: 5, storage: 'file', replicas }),
    kvm.create(KV_SHIPPING_STATUS, { history: 1, storage: 'file', replicas }),
  ]);
  return { nc, js: jetstream(nc), jsm, agents, agentKeys, jobs, runs, close: () => nc.drain() };
}

/** Creates missing streams; existing ones are left as the operator may have tuned them. */
async function ensureStreams(jsm: JetStreamManager, replicas: number): Promise<void> {
  await removeLegacyOrders(jsm);
  for (const config of STREAMS) {
    try {
      await jsm.streams.info(config.name);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
      await jsm.streams.add({ ...config, num_replicas: replicas });
    }
  }
}

/**
 * The work-queue orders stream of versions before issue 12 holds the same subjects as DROVER_DISPATCH,
 * so the two cannot both exist: it is removed (with its per-agent durable consumers). An order still
 * queued in it belonged to a coordinator of the old version; `drover job resume` of its job publishes
 * it again, byte for byte, into the new stream, and an agent's journal keeps it from running twice.
 */
async function removeLegacyOrders(jsm: JetStreamManager): Promise<void> {
  let queued: number;
  try {
    queued = (await jsm.streams.info(LEGACY_STREAM_ORDERS)).state.messages;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return;
    throw error;
  }
  await jsm.streams.delete(LEGACY_STREAM_ORDERS);
  process.emitWarning(
    `removed the work-queue stream ${LEGACY_STREAM_ORDERS} of an older Drover (${queued} order(s) still queued in it; \`drover job resume\` sends a running job's orders again)`,
  );
}
