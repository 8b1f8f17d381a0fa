// The node-status signal on an agent that runs a Cassandra node (config `cassandra` and a `cluster`
// label): every STATUS_INTERVAL_MS it reads its node's state over its own CQL session and puts it into
// KV drover-node-status under `<cluster>.<agentId>`. It also answers "may I drop tables now?" for the
// whole cluster, from that bucket, in two ways:
// - HTTP on 127.0.0.1:<cassandra.statusPort> (when set): GET /v1/cluster/status gives the summary as
//   JSON, 200 when every node is available and 503 otherwise, so `curl -fsS` works as a gate;
// - core NATS on drover.status.cassandra.<cluster>, in a queue group: one agent of the cluster answers.
// Expected nodes: every agent with a status key of the cluster, plus this agent (see
// shared/src/cassandra-status.ts for why the registry does not narrow that set). Nothing here throws
// out of the loop or the handlers: a failure is logged, and a summary that cannot be read answers "no".
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type AgentConfig,
  type CassandraNodeConfig,
  type ClusterStatusSummary,
  cassandraStatusSubject,
  isValidToken,
  KV_NODE_STATUS,
  nodeStatusKey,
  readNodeStatuses,
  STATUS_INTERVAL_MS,
  STATUS_QUEUE_GROUP,
  STATUS_STALE_MS,
  summarizeClusterStatus,
} from '@drover/shared';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  CqlSession,
  nodeActivity,
  onNodeActivity,
  readNodeStatus,
  rebuiltOn,
  setClusterStatusReader,
} from '../clients/cassandra/index.ts';
import type { Logger } from '../log.ts';

export const STATUS_HTTP_PATH = '/v1/cluster/status';

export interface CassandraSignalOptions {
  nc: NatsConnection;
  config: AgentConfig;
  logger: Logger;
  /** @default STATUS_INTERVAL_MS */
  intervalMs?: number;
  /** @default STATUS_STALE_MS */
  staleMs?: number;
}

export interface CassandraSignal {
  stop(): Promise<void>;
}

const NOT_RUNNING: CassandraSignal = { stop: async () => {} };

/**
 * Starts the signal when this agent runs a Cassandra node; a no-op handle otherwise. Resolves once the
 * HTTP endpoint (if any) listens or has failed to (logged: the KV signal runs either way).
 */
export async function startCassandraSignal(options: CassandraSignalOptions): Promise<CassandraSignal> {
  const { nc, config } = options;
  const cassandra = config.cassandra;
  const cluster = config.labels.cluster;
  if (!cassandra) return NOT_RUNNING;
  const log = options.logger.child({ component: 'cassandra-signal' });
  if (!cluster || !isValidToken(cluster)) {
    log.warn('node-status signal off: the agent needs a `cluster` label of letters, digits, "-" or "_"', {
      cluster: cluster ?? null,
    });
    return NOT_RUNNING;
  }
  const staleMs = options.staleMs ?? STATUS_STALE_MS;
  const bucket = new StatusBucket(nc);
  const publisher = startPublisher({
    bucket,
    cassandra,
    cluster,
    agentId: config.id,
    intervalMs: options.intervalMs ?? STATUS_INTERVAL_MS,
    log,
  });
  const summary = coalesced(() => clusterSummary(bucket, cluster, config.id, staleMs));
  // Pipelined rebuild orders read the other nodes' statuses (which items they finished) through here.
  const node = `${cassandra.cql.host}:${cassandra.cql.port}`;
  setClusterStatusReader(node, async () => (await readNodeStatuses(await bucket.get(), cluster)).statuses);

  const sub: Subscription = nc.subscribe(cassandraStatusSubject(cluster), {
    queue: STATUS_QUEUE_GROUP,
    callback: (error, msg) => {
      if (error) return;
      summary()
        .then((s) => msg.respond(JSON.stringify(s)))
        .catch((e: Error) => log.warn('status request not answered', { error: e.message }));
    },
  });
  const server = cassandra.statusPort === undefined ? undefined : await serveHttp(cassandra.statusPort, summary, log);
  log.info('node-status signal started', { cluster, statusPort: cassandra.statusPort ?? null });

  return {
    async stop() {
      setClusterStatusReader(node, undefined);
      sub.unsubscribe();
      if (server) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }
      await publisher.stop();
    },
  };
}

/** Opens the bucket (the coordinator creates it: agents may not create buckets); reopened after a failure. */
class StatusBucket {
  readonly #nc: NatsConnection;
  #kv: Promise<KV> | undefined;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  get(): Promise<KV> {
    this.#kv ??= this.#open();
    return this.#kv;
  }

  /** After an error: the next get() opens (and if need be creates) the bucket again. */
  reset(): void {
    this.#kv = undefined;
  }

  async #open(): Promise<KV> {
    const kv = await new Kvm(this.#nc).open(KV_NODE_STATUS);
    await kv.status(); // fails when the bucket does not exist yet: the next publish opens it again
    return kv;
  }
}

interface PublisherOptions {
  bucket: StatusBucket;
  cassandra: CassandraNodeConfig;
  cluster: string;
  agentId: string;
  intervalMs: number;
  log: Logger;
}

/** The loop: read the node, put the status, wait; a failed put is logged once until it works again. */
function startPublisher(options: PublisherOptions): { stop(): Promise<void> } {
  const { bucket, cassandra, log } = options;
  const cql = new CqlSession(cassandra);
  const key = nodeStatusKey(options.cluster, options.agentId);
  const stopping = new AbortController();
  let lastState: string | undefined;
  let failing: string | undefined;
  // An announcement (a rebuild about to start) is published at once, not at the next tick.
  const node = `${cassandra.cql.host}:${cassandra.cql.port}`;
  let wake = new AbortController();
  const unsubscribe = onNodeActivity((changed) => {
    if (changed === node) wake.abort();
  });
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const read = await readNodeStatus(cql, options.agentId, cassandra.cql.host);
        if (stopping.signal.aborted) break;
        const announced = nodeActivity(node);
        const done = rebuiltOn(node);
        const status = {
          ...(announced && read.state === 'normal'
            ? { ...read, state: 'rebuilding' as const, available: false, detail: `announced: ${announced}` }
            : read),
          ...(done ? { rebuilt: done } : {}),
        };
        if (status.state !== lastState) {
          log.info('cassandra node state', { state: status.state, available: status.available, detail: status.detail });
          lastState = status.state;
        }
        const kv = await bucket.get();
        await kv.put(key, JSON.stringify(status));
        if (failing !== undefined) log.info('node status published again', { key });
        failing = undefined;
      } catch (error) {
        bucket.reset();
        const message = (error as Error).message;
        if (failing !== message) log.warn('node status not published', { key, error: message });
        failing = message;
      }
      if (!wake.signal.aborted)
        await delay(options.intervalMs, undefined, { signal: AbortSignal.any([stopping.signal, wake.signal]) }).catch(
          () => {},
        );
      wake = new AbortController();
    }
  })();
  return {
    async stop() {
      unsubscribe();
      stopping.abort();
      // A read in progress against a node that does not answer ends when the session closes.
      await cql.close();
      await Promise.race([loop, delay(5000, undefined, { ref: false })]);
      // A read that went on after the first close opened a new session: close that one too.
      await cql.close();
    },
  };
}

/** The cluster's summary from the bucket; a bucket that cannot be read answers "not available". */
async function clusterSummary(
  bucket: StatusBucket,
  cluster: string,
  self: string,
  staleMs: number,
): Promise<ClusterStatusSummary> {
  try {
    const { agents, statuses } = await readNodeStatuses(await bucket.get(), cluster);
    return summarizeClusterStatus({ cluster, expected: [...agents, self], statuses, now: Date.now(), staleMs });
  } catch (error) {
    bucket.reset();
    return {
      cluster,
      allNodesAvailable: false,
      nodes: [],
      notAvailable: [{ agent: self, reason: `cannot read node statuses: ${(error as Error).message}` }],
      at: Date.now(),
    };
  }
}

/** One read at a time: callers arriving while a read is in progress share its result. */
function coalesced<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

async function serveHttp(
  port: number,
  summary: () => Promise<ClusterStatusSummary>,
  log: Logger,
): Promise<Server | undefined> {
  const send = (res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(`${JSON.stringify(body)}\n`);
  };
  // node:http (seven built-in modules) only on nodes that serve the status: idle memory, issue 12.
  const { createServer } = await import('node:http');
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== STATUS_HTTP_PATH) return send(res, 404, { error: `not found; try GET ${STATUS_HTTP_PATH}` });
    if (req.method !== 'GET') return send(res, 405, { error: 'only GET' }, { allow: 'GET' });
    summary().then(
      (s) => send(res, s.allNodesAvailable ? 200 : 503, s),
      (error: Error) => send(res, 503, { error: error.message }),
    );
  });
  return new Promise((resolve) => {
    server.once('error', (error) => {
      log.error('node-status HTTP endpoint not started', { port, error: error.message });
      resolve(undefined);
    });
    server.listen(port, '127.0.0.1', () => {
      server.on('error', (error) => log.warn('node-status HTTP endpoint error', { error: error.message }));
      resolve(server);
    });
  });
}
