// Prometheus metrics of `drover serve` (GET /metrics): gauges read from the live model at scrape
// time (jobs, plan runs, targets and agents by state), histograms of what the events stream shows
// (dispatch and result latency, events lag), and prom-client's default process metrics.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { LatencyObservation } from './latency.ts';
import type { LiveModel } from './model.ts';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface ServeMetrics {
  registry: Registry;
  observe(observation: LatencyObservation): void;
  /** Now − the event's stream timestamp, when serve received it. */
  eventLag(ms: number, kind: string): void;
}

export function createMetrics(model: LiveModel, clients: () => number): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const countBy = <T>(values: Iterable<T>, key: (v: T) => string, all: readonly string[] = []) => {
    const counts = new Map<string, number>(all.map((k) => [k, 0]));
    for (const v of values) counts.set(key(v), (counts.get(key(v)) ?? 0) + 1);
    return counts;
  };
  const gauge = (name: string, help: string, label: string, read: () => Map<string, number>) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [value, n] of read()) this.set({ [label]: value }, n);
      },
    });
  gauge('drover_jobs', 'Jobs by state (KV drover-jobs).', 'state', () =>
    countBy(model.jobs.values(), (j) => j.state, ['running', 'succeeded', 'failed', 'stopped', 'cancelled']),
  );
  gauge('drover_plan_runs', 'Plan runs by state (KV drover-plan-runs).', 'state', () =>
    countBy(model.planRuns.values(), (r) => r.state),
  );
  gauge('drover_targets', 'Targets of every job by state (KV drover-runs).', 'state', () =>
    countBy(model.targets.values(), (t) => t.state),
  );
  gauge('drover_agents', 'Registered agents by liveness (KV drover-agents).', 'liveness', () =>
    countBy(model.agents.values(), (a) => a.liveness, ['online', 'stale', 'offline']),
  );
  new Gauge({
    name: 'drover_serve_clients',
    help: 'Pages connected to the live feed.',
    registers: [registry],
    collect() {
      this.set(clients());
    },
  });
  const dispatch = new Histogram({
    name: 'drover_dispatch_latency_seconds',
    help: "From an order's issuedAt to the agent's signed accepted event.",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const result = new Histogram({
    name: 'drover_result_latency_seconds',
    help: "From an order's issuedAt to the agent's signed result.",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'drover_events_lag_seconds',
    help: "Now minus the event's stream timestamp, when drover serve received it.",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const events = new Counter({
    name: 'drover_serve_events_total',
    help: 'Events received from DROVER_EVENTS, by kind.',
    labelNames: ['kind'],
    registers: [registry],
  });
  return {
    registry,
    observe(o) {
      (o.kind === 'dispatch' ? dispatch : result).observe(o.ms / 1000);
    },
    eventLag(ms, kind) {
      lag.observe(Math.max(0, ms) / 1000);
      events.inc({ kind });
    },
  };
}
