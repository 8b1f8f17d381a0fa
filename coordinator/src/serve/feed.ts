// Feeds the live model from NATS: a watch on each KV bucket the page shows (agents, jobs, targets,
// plan runs) and on the enrolled keys, and the one resilient follower of the events stream
// (engine/events.ts) for progress, signed accepted/result reports, and job and run events. A
// watch that ends or fails (a NATS restart) is started again and re-delivers every current value,
// which the model takes as upserts. Read-only: nothing here writes to NATS.
import type { KeyObject } from 'node:crypto';
import {
  AcceptedEventSchema,
  AgentRecordSchema,
  EnrollmentSchema,
  EVENTS_WILDCARD,
  JobEventSchema,
  KV_AGENT_KEYS,
  KV_AGENTS,
  KV_JOBS,
  KV_PLAN_RUNS,
  KV_RUNS,
  OrderResultSchema,
  ProgressEventSchema,
  parseEventSubject,
  publicKeyFromPem,
  runKey,
  sleep,
} from '@drover/shared';
import type { JsMsg } from '@nats-io/jetstream';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { checkReport } from '../engine/agent-keys.ts';
import { followEvents } from '../engine/events.ts';
import type { Drover } from '../engine/nats.ts';
import { parseJob, parseRuns } from '../engine/records.ts';
import { planFromRecord } from '../plan/store.ts';
import { PlanRunSchema, ResolvedPlanSchema } from '../plan/types.ts';
import type { LatencyMatcher } from './latency.ts';
import type { ServeMetrics } from './metrics.ts';
import type { LiveModel } from './model.ts';

export interface FeedOptions {
  d: Drover;
  planRuns: KV;
  model: LiveModel;
  latency: LatencyMatcher;
  metrics: ServeMetrics;
}

export interface Feed {
  stop(): Promise<void>;
}

const RESTART_PAUSE_MS = 500;
const LIVENESS_TICK_MS = 1000;

export function startFeed(options: FeedOptions): Feed {
  const { d, model, latency, metrics } = options;
  const abort = new AbortController();
  const keys = new Map<string, KeyObject>();
  const json = (entry: KvWatchEntry): unknown => {
    if (entry.operation !== 'PUT') return undefined;
    try {
      return entry.json();
    } catch {
      return undefined;
    }
  };
  const watches = [
    watchBucket(KV_AGENTS, d.agents, abort.signal, (e) => {
      const parsed = AgentRecordSchema.safeParse(json(e));
      model.putAgent(e.key, parsed.success ? parsed.data : undefined, Date.now());
    }),
    watchBucket(KV_JOBS, d.jobs, abort.signal, (e) => {
      model.putJob(e.key, parseJob(json(e)));
    }),
    watchBucket(KV_RUNS, d.runs, abort.signal, (e) => {
      const runs = parseRuns(json(e));
      // A batch of final records is no target's key: its records go to their targets' keys.
      if (!runs) return e.key.includes('._f-') ? undefined : model.putTarget(e.key, undefined);
      for (const run of runs) {
        model.putTarget(runKey(run.jobId, run.agentId), run);
        const orderId = run.order?.orderId ?? run.orderId;
        const issuedAt = run.order?.issuedAt ?? run.dispatchedAt;
        if (orderId && issuedAt !== undefined)
          for (const o of latency.issued(orderId, issuedAt, Date.now())) metrics.observe(o);
      }
    }),
    watchBucket(KV_PLAN_RUNS, options.planRuns, abort.signal, (e) => {
      const value = json(e);
      if (e.key.endsWith('.state')) {
        const parsed = PlanRunSchema.safeParse(value);
        model.putPlanRunKey(e.key, parsed.success ? { state: parsed.data } : undefined);
      } else if (e.key.endsWith('.plan')) {
        const parsed = ResolvedPlanSchema.safeParse(value);
        if (parsed.success) model.putPlanRunKey(e.key, { plan: parsed.data });
        else if (value !== undefined && value !== null && typeof value === 'object' && 'chunked' in value)
          // A big plan stored in chunks: read them, then show it (the run's state does not wait for it).
          planFromRecord(options.planRuns, e.key.slice(0, -'.plan'.length), value).then(
            (plan) => model.putPlanRunKey(e.key, { plan }),
            () => model.putPlanRunKey(e.key, undefined),
          );
        else model.putPlanRunKey(e.key, undefined);
      }
    }),
    watchBucket(KV_AGENT_KEYS, d.agentKeys, abort.signal, (e) => {
      const parsed = EnrollmentSchema.safeParse(json(e));
      if (!parsed.success || parsed.data.agentId !== e.key) {
        keys.delete(e.key);
        return;
      }
      try {
        keys.set(e.key, publicKeyFromPem(parsed.data.publicKeyPem, e.key));
      } catch {
        // A key that does not parse verifies nothing: the agent's reports wait for KV as unsigned ones do.
        keys.delete(e.key);
      }
    }),
  ];
  const follower = followEvents(d, {
    filter: EVENTS_WILDCARD,
    fromStart: false,
    onMessage: (m) => {
      onEvent(m, { model, latency, metrics, keys });
    },
  });
  const ticker = setInterval(() => {
    model.tick(Date.now());
  }, LIVENESS_TICK_MS);
  return {
    async stop() {
      clearInterval(ticker);
      abort.abort();
      await Promise.all([follower.stop(), ...watches]);
    },
  };
}

/** Watches every key of `kv` (current values first, then changes), again after any end or failure. */
async function watchBucket(
  name: string,
  kv: KV,
  signal: AbortSignal,
  onEntry: (entry: KvWatchEntry) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const entries = await kv.watch({ key: '>' });
      const stop = () => entries.stop();
      signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const entry of entries) {
          try {
            onEntry(entry);
          } catch (error) {
            process.emitWarning(`KV entry ${entry.key} not shown: ${(error as Error).message}`);
          }
        }
      } finally {
        signal.removeEventListener('abort', stop);
      }
    } catch (error) {
      // A watch fails when NATS or the bucket's stream is away: the next one re-reads every value.
      if (!signal.aborted && !isTransient(error))
        process.emitWarning(`watch of KV ${name} failed: ${(error as Error).message}`);
    }
    await sleep(RESTART_PAUSE_MS, signal).catch(() => {});
  }
}

function isTransient(error: unknown): boolean {
  return /timeout|closed|connection|no responders|not found|503/i.test(String((error as Error)?.message ?? error));
}

interface EventContext {
  model: LiveModel;
  latency: LatencyMatcher;
  metrics: ServeMetrics;
  keys: ReadonlyMap<string, KeyObject>;
}

/** One message of the events stream into the model and the metrics; whether the model changed. */
export function onEvent(m: Pick<JsMsg, 'subject' | 'data' | 'info'>, ctx: EventContext): boolean {
  const { model, latency, metrics } = ctx;
  const parsed = parseEventSubject(m.subject);
  if (!parsed) return false;
  const now = Date.now();
  metrics.eventLag(now - m.info.timestampNanos / 1e6, parsed.kind);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(m.data));
  } catch {
    return false;
  }
  const { jobId, agentId } = parsed;
  switch (parsed.kind) {
    case 'progress': {
      const p = ProgressEventSchema.safeParse(body);
      // Signed by the agent's enrolled key, like accepted and result: a forged bar is not shown.
      if (!p.success || !checkReport(ctx.keys, agentId, body).ok) return false;
      const current = model.orderOf(jobId, agentId);
      if (current && current.orderId !== p.data.orderId) return false;
      model.putProgress(jobId, agentId, {
        at: p.data.at,
        message: p.data.message.slice(0, 300),
        ...(p.data.percent !== undefined ? { percent: p.data.percent } : {}),
      });
      return true;
    }
    case 'accepted': {
      const a = AcceptedEventSchema.safeParse(body);
      if (!a.success || !checkReport(ctx.keys, agentId, body).ok) return false;
      for (const o of latency.accepted(a.data.orderId, a.data.at, now)) metrics.observe(o);
      return false;
    }
    case 'result': {
      const r = OrderResultSchema.safeParse(body);
      // Only a result signed by the agent's enrolled key is shown before the coordinator records it:
      // anyone who can publish on the stream could otherwise paint a target failed.
      if (!r.success || !checkReport(ctx.keys, agentId, body).ok) return false;
      // A step that ended within the agent's hold sends no `accepted`: its result says when it started.
      if (r.data.startedAt !== undefined)
        for (const o of latency.accepted(r.data.orderId, r.data.startedAt, now)) metrics.observe(o);
      for (const o of latency.result(r.data.orderId, r.data.finishedAt, now)) metrics.observe(o);
      model.putLiveResult(jobId, agentId, r.data);
      if (r.data.status !== 'succeeded')
        model.addFeed({
          at: r.data.finishedAt,
          jobId,
          agentId,
          kind: 'result',
          text: `${r.data.status}${r.data.error ? `: ${r.data.error.message}` : ''}`,
        });
      return true;
    }
    case 'job': {
      const j = JobEventSchema.safeParse(body);
      if (!j.success || j.data.type === 'wave') return false;
      model.addFeed({ at: j.data.at, jobId, agentId: j.data.agentId ?? '', kind: j.data.type, text: j.data.message });
      return true;
    }
    case 'run': {
      const e = body as { at?: unknown; type?: unknown; message?: unknown };
      if (typeof e.type !== 'string' || typeof e.message !== 'string') return false;
      model.addFeed({ at: typeof e.at === 'number' ? e.at : now, jobId, agentId: '', kind: e.type, text: e.message });
      return true;
    }
    default:
      return false;
  }
}
