// Every NATS name Drover uses — subjects, streams, consumers, KV buckets and keys — is built here,
// and only here, from validated tokens. A token that could widen a subscription (`*`, `>`, `.`) or
// break a KV key never reaches the wire.
import { InvalidInputError } from './errors.ts';

/** Agent ids, job ids and order ids: letters, digits, `-` and `_`, 1..64 chars, not starting with `_`. */
const TOKEN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function assertToken(field: string, value: string): string {
  if (typeof value !== 'string' || !TOKEN_PATTERN.test(value)) {
    throw new InvalidInputError(
      field,
      value,
      'letters, digits, "-" or "_" (1-64 chars, starting with a letter or digit)',
    );
  }
  return value;
}

export function isValidToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/**
 * Orders, kept on a limits-retention stream with no per-agent consumer: delivered live over core
 * NATS, and read back by each agent from its own journaled cursor after a gap (agent/src/intake.ts).
 */
export const STREAM_ORDERS = 'DROVER_DISPATCH';
/**
 * The work-queue stream of versions before issue 12 (one durable consumer per agent). Its subjects
 * are the new stream's, so the coordinator removes it before making DROVER_DISPATCH (nats.ts).
 */
export const LEGACY_STREAM_ORDERS = 'DROVER_ORDERS';
export const STREAM_EVENTS = 'DROVER_EVENTS';
export const STREAM_AUDIT = 'DROVER_AUDIT';
export const KV_AGENTS = 'drover-agents';
export const KV_JOBS = 'drover-jobs';
export const KV_RUNS = 'drover-runs';
/** Plan runs: `<runId>.state` (phases, approvals, lease) and `<runId>.plan` (the resolved plan it runs). */
export const KV_PLAN_RUNS = 'drover-plan-runs';
/** Central per-cluster profiles: `kafka.<cluster>` (listeners, ZooKeeper, overrides), read by agents at run time. */
export const KV_PROFILES = 'drover-profiles';

export const ORDERS_WILDCARD = 'drover.order.>';
export const EVENTS_WILDCARD = 'drover.event.>';
export const AUDIT_WILDCARD = 'drover.audit.>';

/** The agent-id token used for job-level events (job started, finished) on the events stream. */
export const COORDINATOR_TOKEN = 'coordinator';

/**
 * Kinds of event published on `drover.event.<jobId>.<agentId>.<kind>`; a plan run's own events use
 * its run id in the job position and `coordinator` as the agent (`drover.event.<runId>.coordinator.run`).
 */
export const EVENT_KINDS = ['accepted', 'progress', 'log', 'result', 'job', 'run'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * Where the orders for one agent are published (stream DROVER_DISPATCH, limits retention); the agent
 * subscribes to it over core NATS, which is how a connected agent gets an order at once.
 */
export function orderSubject(agentId: string): string {
  return `drover.order.${assertToken('agentId', agentId)}`;
}

/**
 * Marks an order published into the orders stream only as a stored copy for its agent to read back
 * (the agent was not heard from): its live delivery on `drover.order.<agentId>` is ignored by the
 * agent, which had the order over core NATS or will read it from its cursor. Only skips a copy: the
 * catch-up reads it like any other, and the journal decides whether it runs.
 */
export const STORED_COPY_HEADER = 'Drover-Stored-Copy';

/**
 * Where the coordinator sends an order again, over core NATS, while its agent has not taken it.
 * Not under ORDERS_WILDCARD: the orders stream would store every copy sent here as a new message.
 */
export function orderResendSubject(agentId: string): string {
  return `drover.resend.${assertToken('agentId', agentId)}`;
}

/**
 * Where the coordinator asks one agent, over core NATS (request/reply), for a page of its journal:
 * what it ran and how it ended (`drover reconcile`, after NATS lost its state). The reply is signed.
 */
export function journalSubject(agentId: string): string {
  return `drover.journal.${assertToken('agentId', agentId)}`;
}

/**
 * The short-lived consumer through which one agent reads its own orders back from its cursor after
 * a gap. Its name and its filter are both in the create request's subject, so NATS permissions can
 * allow each agent this one name on its own subject and nothing else.
 */
export function orderCatchUpConsumerName(agentId: string): string {
  return `catchup-${assertToken('agentId', agentId)}`;
}

export function eventSubject(jobId: string, agentId: string, kind: EventKind): string {
  return `drover.event.${assertToken('jobId', jobId)}.${assertToken('agentId', agentId)}.${kind}`;
}

/** All events of one job (for tails and for a coordinator catching up after a restart). */
export function jobEventsFilter(jobId: string): string {
  return `drover.event.${assertToken('jobId', jobId)}.>`;
}

/** Parses `drover.event.<jobId>.<agentId>.<kind>`; undefined for anything else. */
export function parseEventSubject(subject: string): { jobId: string; agentId: string; kind: EventKind } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 5 || parts[0] !== 'drover' || parts[1] !== 'event') return undefined;
  const [, , jobId, agentId, kind] = parts as [string, string, string, string, string];
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) return undefined;
  return { jobId, agentId, kind: kind as EventKind };
}

export type AuditKind = 'order' | 'verdict' | 'rejected' | 'job' | 'run' | 'profile' | 'refused-report';

export function auditSubject(kind: AuditKind, id: string): string {
  return `drover.audit.${kind}.${assertToken('id', id)}`;
}

/** Every audit record about one id: a job's orders, verdicts and job records, or a run's transitions. */
export function auditFilter(id: string): string {
  return `drover.audit.*.${assertToken('id', id)}`;
}

/** Core (non-persistent) subject on which a running order is asked to stop. */
export function cancelSubject(agentId: string): string {
  return `drover.cancel.${assertToken('agentId', agentId)}`;
}

/** Core subject every agent answers for live, disposable scatter-gather (`requestMany`). */
export const LIVE_PING_SUBJECT = 'drover.live.ping';

export function agentKey(agentId: string): string {
  return assertToken('agentId', agentId);
}

export function jobKey(jobId: string): string {
  return assertToken('jobId', jobId);
}

/** Key of one target's run record in KV drover-runs: `<jobId>.<agentId>`. */
export function runKey(jobId: string, agentId: string): string {
  return `${assertToken('jobId', jobId)}.${assertToken('agentId', agentId)}`;
}

/**
 * Key of a batch of a job's final run records in KV drover-runs: `<jobId>._f-<writer>-<n>`. Agent ids
 * never start with `_`, so it is no target's key; `writer` names the coordinator process writing.
 */
export function runBatchKey(jobId: string, writer: string, n: number): string {
  return `${assertToken('jobId', jobId)}._f-${assertToken('writer', writer)}-${n}`;
}

export function runKeysFilter(jobId: string): string {
  return `${assertToken('jobId', jobId)}.*`;
}

/** Key of a plan run's state record in KV drover-plan-runs. */
export function planRunStateKey(runId: string): string {
  return `${assertToken('runId', runId)}.state`;
}

/** Key of the resolved plan a run carries out (written once, when the run is created). */
export function planRunPlanKey(runId: string): string {
  return `${assertToken('runId', runId)}.plan`;
}

export const PLAN_RUN_STATES_FILTER = '*.state';

export const PROFILE_KINDS = ['kafka'] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

/** Key of a cluster's profile in KV drover-profiles: `<kind>.<cluster>`. */
export function profileKey(kind: ProfileKind, cluster: string): string {
  return `${kind}.${assertToken('cluster', cluster)}`;
}
