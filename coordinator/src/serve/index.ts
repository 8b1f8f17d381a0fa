// `drover serve`: a read-only live page of the fleet, plan runs, jobs and audit trails, with a
// WebSocket feed and Prometheus metrics. The model (model.ts) is fed from NATS (feed.ts) and served
// over HTTP (http.ts); nothing in here writes to NATS.
import type { Drover } from '../engine/nats.ts';
import { openRunStore } from '../plan/store.ts';
import { readAuditTrail } from './audit-read.ts';
import { startFeed } from './feed.ts';
import type { ServedForecast } from './forecasts.ts';
import { type ServeHttp, startHttp } from './http.ts';
import { LatencyMatcher } from './latency.ts';
import { createMetrics } from './metrics.ts';
import { LiveModel } from './model.ts';

export * from './errors.ts';
export { ForecastFileError, loadForecasts, type ServedForecast } from './forecasts.ts';
export type { AgentSummary, JobSummary, Patch, PlanRunSummary, Snapshot, TargetSummary } from './model.ts';
export { LiveModel } from './model.ts';
export { loadToken, type ServeToken, TOKEN_ENV } from './token.ts';

export interface ServeOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host: string;
  /** 0 = any free port. */
  port: number;
  token: string;
  /** Rehearsal forecasts shown at /forecasts (loadForecasts). */
  forecasts?: ReadonlyMap<string, ServedForecast>;
}

export interface Serving {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServe(d: Drover, options: ServeOptions): Promise<Serving> {
  const model = new LiveModel();
  const latency = new LatencyMatcher();
  let http: ServeHttp | undefined;
  const metrics = createMetrics(model, () => http?.clients() ?? 0);
  const { kv: planRuns } = await openRunStore(d);
  http = await startHttp({
    host: options.host,
    port: options.port,
    token: options.token,
    model,
    metrics,
    readAudit: (ids) => readAuditTrail(d, ids),
    ...(options.forecasts ? { forecasts: options.forecasts } : {}),
  });
  // The model only records what changed; the HTTP side takes and pushes it every 100 ms.
  const feed = startFeed({ d, planRuns, model, latency, metrics });
  const served = http;
  return {
    url: served.url,
    port: served.port,
    async close() {
      await served.close();
      await feed.stop();
    },
  };
}
