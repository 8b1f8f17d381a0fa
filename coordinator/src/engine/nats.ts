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
    name: STREAM_ORDERS,
    subjects: [ORDERS_WILDCARD],
    retention: 'workqueue',
    storage: 'file',
    // A retried publish of the same order id within this window is dropped by the server.
    duplicate_window: nanos(30 * 60 * 1000),
    max_msg_size: 256 * 1024,
    max_age: 7 * DAY_NS,
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
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name,
      timeout: options.connectTimeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      ...(options.user ? { user: options.user, pass: options.pass } : {}),
      ...(options.tlsCaFile ? { tls: { caFile: options.tlsCaFile } } : {}),
      ...(options.token ? { token: options.token } : {}),
    });
  } catch (cause) {
    throw new NatsUnavailableError(options.servers, cause);
  }
  const replicas = options.replicas ?? Number(process.env.DROVER_STREAM_REPLICAS ?? 1);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, replicas);
  const kvm = new Kvm(nc);
  const [agents, agentKeys, jobs, runs] = await Promise.all([
    kvm.create(KV_AGENTS, { history: 1, storage: 'file', replicas }),
    kvm.create(KV_AGENT_KEYS, { history: 5, storage: 'file', replicas }),
    kvm.create(KV_JOBS, { history: 5, storage: 'file', replicas }),
    kvm.create(KV_RUNS, { history: 1, storage: 'file', replicas }),
    // Written by the agents (their Cassandra node's status), which may not create buckets.
    kvm.create(KV_NODE_STATUS, { history: 1, ttl: STATUS_TTL_MS, storage: 'file', replicas }),
  ]);
  return { nc, js: jetstream(nc), jsm, agents, agentKeys, jobs, runs, close: () => nc.drain() };
}

/** Creates missing streams; existing ones are left as the operator may have tuned them. */
async function ensureStreams(jsm: JetStreamManager, replicas: number): Promise<void> {
  for (const config of STREAMS) {
    try {
      await jsm.streams.info(config.name);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
      await jsm.streams.add({ ...config, num_replicas: replicas });
    }
  }
}
