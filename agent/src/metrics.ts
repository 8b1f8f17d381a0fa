// The agent's optional Prometheus endpoint (config `metrics`): orders by outcome, step durations,
// journal fsync latency and NATS reconnects on `GET /metrics`. prom-client is imported only when
// `metrics` is configured, so an agent without it never loads it (idle memory stays low); the
// no-op recorder has the same shape, so the code that records never asks whether metrics are on.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentMetricsConfig } from '@drover/shared';
import type { Logger } from './log.ts';

export interface AgentMetrics {
  /** An order's outcome (succeeded, failed, cancelled, timed-out, rejected) and, when its step ran, how long it took. */
  orderFinished(outcome: string, step?: string, durationMs?: number): void;
  /** One journal append's fdatasync. */
  journalSynced(durationMs: number): void;
  natsReconnected(): void;
  /** `http://host:port/metrics`, when serving. */
  readonly url: string | undefined;
  stop(): Promise<void>;
}

export const NO_METRICS: AgentMetrics = {
  orderFinished() {},
  journalSynced() {},
  natsReconnected() {},
  url: undefined,
  async stop() {},
};

const STEP_SECONDS = [0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14_400];
const FSYNC_SECONDS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Serves /metrics on config.host:config.port; NO_METRICS without a config. */
export async function startMetrics(
  config: AgentMetricsConfig | undefined,
  agentId: string,
  logger: Logger,
): Promise<AgentMetrics> {
  if (!config) return NO_METRICS;
  const prom = await import('prom-client');
  // Like prom-client, node:http (seven built-in modules) is loaded only when metrics are served.
  const { createServer } = await import('node:http');
  const registry = new prom.Registry();
  registry.setDefaultLabels({ agent: agentId });
  prom.collectDefaultMetrics({ register: registry, prefix: 'drover_agent_' });
  const orders = new prom.Counter({
    name: 'drover_agent_orders_total',
    help: 'Orders this agent finished, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const steps = new prom.Histogram({
    name: 'drover_agent_step_duration_seconds',
    help: 'How long steps ran, from start to result.',
    labelNames: ['step'],
    buckets: STEP_SECONDS,
    registers: [registry],
  });
  const fsync = new prom.Histogram({
    name: 'drover_agent_journal_fsync_seconds',
    help: "The journal's fdatasync latency, per appended line.",
    buckets: FSYNC_SECONDS,
    registers: [registry],
  });
  const reconnects = new prom.Counter({
    name: 'drover_agent_nats_reconnects_total',
    help: 'Times the NATS connection was re-established.',
    registers: [registry],
  });
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await listen(server, config.port, config.host);
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/metrics`;
  logger.info('metrics endpoint listening', { url });
  return {
    orderFinished(outcome, step, durationMs) {
      orders.inc({ outcome });
      if (step !== undefined && durationMs !== undefined) steps.observe({ step }, Math.max(0, durationMs) / 1000);
    },
    journalSynced(durationMs) {
      fsync.observe(durationMs / 1000);
    },
    natsReconnected() {
      reconnects.inc();
    },
    url,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
