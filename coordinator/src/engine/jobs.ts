// Creating, reading and changing jobs in KV. Every change to a job record is a compare-and-set on
// its revision, so two coordinators (or a coordinator and `drover job cancel`) never overwrite each other.
import { randomBytes } from 'node:crypto';
import { getStep, InvalidInputError, jobKey, parseSelector, runKeysFilter, validateStepParams } from '@drover/shared';
import type { KV } from '@nats-io/kv';
import { requireEnrolled } from './agent-keys.ts';
import { type AgentView, resolveAgentList, resolveTargets } from './agents.ts';
import { audit } from './audit.ts';
import { updateWithCas } from './cas.ts';
import { JobNotFoundError } from './errors.ts';
import { leaderValue, readAll } from './kv-read.ts';
import type { Drover } from './nats.ts';
import { DEFAULT_DELIVERY_TIMEOUT_MS, type JobOptions } from './options.ts';
import { type JobRecord, parseJob, parseRuns, type RunRecord, supersedes } from './records.ts';
import { redactParams } from './redact.ts';
import { retryAfterSetup } from './retry.ts';

export interface JobRequest {
  step: string;
  params: Record<string, unknown>;
  selector: string;
  /** An explicit target list (instead of the selector): every id must be registered. */
  agents?: string[];
  /** An empty selector means every registered agent only when this says so (`drover run --all`). */
  all?: boolean;
  /** A chosen job id (plan runs derive it from run, phase, step and attempt); default: a new one. */
  id?: string;
  options: Partial<JobOptions> & Pick<JobOptions, 'concurrency' | 'maxErrors'>;
  createdBy: string;
}

export interface PreparedJob {
  job: JobRecord;
  targets: AgentView[];
}

export function newJobId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `j-${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * Checks everything (step, parameters, selector, serial-by label) and resolves the targets, without
 * writing anything: used for --dry-run and as the first half of createJob, so bad input never
 * leaves a half-created job behind.
 */
export async function prepareJob(d: Drover, request: JobRequest, now = Date.now()): Promise<PreparedJob> {
  const step = getStep(request.step);
  const params = validateStepParams(request.step, request.params);
  parseSelector(request.selector);
  if (!request.agents && request.selector.trim() === '' && !request.all)
    throw new InvalidInputError(
      '--selector',
      '',
      'a label selector such as cluster=kafka-a (or --all for every registered agent, offline ones included)',
    );
  if (request.id !== undefined) jobKey(request.id);
  checkJobLimits(request, params);
  if (request.options.serialBy !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/.test(request.options.serialBy)) {
    throw new InvalidInputError('--serial-by', request.options.serialBy, 'a label key such as rack, dc or cluster');
  }
  const targets = request.agents
    ? await resolveAgentList(d.agents, request.agents)
    : await resolveTargets(d.agents, request.selector);
  // Only agents whose key the operator enrolled: no one else's word on a result would count.
  await requireEnrolled(
    d.agentKeys,
    targets.map((t) => t.id),
  );
  const groups = groupTargets(targets, request.options.serialBy);
  // Listed up to a bound, so the job record stays far below a message's size; past it, orders of
  // away targets are stored after the usual wait for an answer, as any other's.
  const away = targets.filter((t) => t.liveness !== 'online').map((t) => t.id);
  if (away.length > MAX_AWAY_LISTED) away.length = 0;
  const job: JobRecord = {
    id: request.id ?? newJobId(new Date(now)),
    step: step.name,
    params,
    selector: request.agents ? '' : request.selector,
    ...(request.agents ? { agents: request.agents } : {}),
    options: {
      concurrency: request.options.concurrency,
      maxErrors: request.options.maxErrors,
      ...(request.options.serialBy ? { serialBy: request.options.serialBy } : {}),
      timeoutMs: request.options.timeoutMs ?? step.defaultTimeoutMs,
      deliveryTimeoutMs: request.options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    },
    groups,
    ...(away.length > 0 ? { away } : {}),
    createdAt: now,
    createdBy: request.createdBy,
    state: 'running',
    cancelRequested: false,
  };
  return { job, targets };
}

/** At most this many targets away at creation are listed in a job record (JobRecord.away). */
const MAX_AWAY_LISTED = 10_000;

/** Groups targets by the serial-by label's value (sorted; agents without the label last). */
export function groupTargets(targets: readonly AgentView[], serialBy: string | undefined): JobRecord['groups'] {
  if (!serialBy) return [{ key: '*', agents: targets.map((t) => t.id) }];
  const byValue = new Map<string, string[]>();
  for (const t of targets) {
    const key = t.labels[serialBy] ?? '(none)';
    byValue.set(key, [...(byValue.get(key) ?? []), t.id]);
  }
  const keys = [...byValue.keys()].sort((a, b) => (a === '(none)' ? 1 : b === '(none)' ? -1 : a.localeCompare(b)));
  return keys.map((key) => ({ key: `${serialBy}=${key}`, agents: byValue.get(key) ?? [] }));
}

/** Writes the job and one pending run record per target, and audits the job's creation. */
export async function createJob(d: Drover, prepared: PreparedJob): Promise<JobRecord> {
  const { job } = prepared;
  // Targets are listed in the job record; a target gets a run record once it has an order. Tried
  // again through a NATS failover; an earlier attempt that landed (its answer lost) counts as done.
  const text = JSON.stringify(job);
  await retryAfterSetup(async () => {
    try {
      await d.jobs.create(jobKey(job.id), text);
    } catch (error) {
      const existing = await d.jobs.get(jobKey(job.id)).catch(() => null);
      if (existing?.operation === 'PUT' && existing.string() === text) return;
      throw error;
    }
  });
  await audit(d, 'job', job.id, {
    type: 'job-created',
    jobId: job.id,
    step: job.step,
    params: redactParams(job.params),
    selector: job.selector,
    options: job.options,
    targets: job.groups.reduce((n, g) => n + g.agents.length, 0),
    by: job.createdBy,
    at: job.createdAt,
  });
  return job;
}

export interface JobEntry {
  job: JobRecord;
  revision: number;
}

export async function readJob(jobs: KV, jobId: string): Promise<JobEntry> {
  const entry = await jobs.get(jobKey(jobId));
  if (entry && entry.operation === 'PUT') {
    const job = parseJob(entry.json());
    if (job) return { job, revision: entry.revision };
  }
  // Before saying it does not exist, ask the stream's leader: a replica behind it may have answered.
  const latest = await leaderValue(jobs, jobKey(jobId));
  const job = latest ? parseJob(latest.value) : undefined;
  if (!latest || !job) throw new JobNotFoundError(jobId);
  return { job, revision: latest.revision };
}

export async function listJobs(jobs: KV): Promise<JobRecord[]> {
  const all = await readAll(jobs, '>', parseJob);
  return [...all.values()].sort((a, b) => b.createdAt - a.createdAt);
}

/** Every target's run record; targets with none yet (never dispatched) are `pending`. */
export async function readRuns(runs: KV, job: JobRecord): Promise<Map<string, RunRecord>> {
  const all = await readAll(runs, runKeysFilter(job.id), parseRuns);
  const byAgent = new Map<string, RunRecord>();
  for (const list of all.values())
    for (const run of list)
      if (run.jobId === job.id && supersedes(run, byAgent.get(run.agentId))) byAgent.set(run.agentId, run);
  for (const group of job.groups) {
    for (const agentId of group.agents) {
      if (!byAgent.has(agentId)) byAgent.set(agentId, { jobId: job.id, agentId, group: group.key, state: 'pending' });
    }
  }
  return byAgent;
}

/**
 * Applies `change` to the job with compare-and-set, re-reading and retrying when someone else wrote
 * in between. `change` returns undefined to leave the job as it is.
 */
export async function updateJob(
  jobs: KV,
  jobId: string,
  change: (job: JobRecord) => JobRecord | undefined,
): Promise<JobEntry> {
  const read = async () => {
    const { job, revision } = await readJob(jobs, jobId);
    return { value: job, revision };
  };
  const { value, revision } = await updateWithCas(
    jobs,
    jobKey(jobId),
    read,
    change,
    () => new Error(`job ${jobId}: too many concurrent updates`),
    20,
  );
  return { job: value, revision };
}

export async function requestCancel(jobs: KV, jobId: string): Promise<JobEntry> {
  return updateJob(jobs, jobId, (job) =>
    job.cancelRequested || job.state !== 'running' ? undefined : { ...job, cancelRequested: true },
  );
}

/** The longest a step may run, and an order may wait: what every agent accepts (OrderSchema). */
export const MAX_ORDER_DURATION_MS = 7 * 24 * 3600 * 1000;
/** Params beyond this would not fit one order on the orders stream (256 KiB with the envelope). */
export const MAX_PARAMS_BYTES = 200 * 1024;

/** Refuses, before anything is written, what every agent would refuse or the stream could not hold. */
function checkJobLimits(request: JobRequest, params: Record<string, unknown>): void {
  const { concurrency, timeoutMs, deliveryTimeoutMs } = request.options;
  if (('count' in concurrency && concurrency.count < 1) || ('percent' in concurrency && concurrency.percent <= 0))
    throw new InvalidInputError(
      '--concurrency',
      'count' in concurrency ? concurrency.count : `${concurrency.percent}%`,
      'at least 1 target at a time (or a percentage above 0%)',
    );
  if (timeoutMs !== undefined && timeoutMs > MAX_ORDER_DURATION_MS)
    throw new InvalidInputError('--timeout', `${timeoutMs} ms`, 'at most 7d (agents refuse longer orders)');
  if (deliveryTimeoutMs !== undefined && deliveryTimeoutMs > MAX_ORDER_DURATION_MS)
    throw new InvalidInputError('--delivery-timeout', `${deliveryTimeoutMs} ms`, 'at most 7d');
  const bytes = Buffer.byteLength(JSON.stringify(params));
  if (bytes > MAX_PARAMS_BYTES)
    throw new InvalidInputError(
      'params',
      `${bytes} bytes of JSON`,
      `at most ${MAX_PARAMS_BYTES} bytes (an order must fit one message of the orders stream)`,
    );
}
