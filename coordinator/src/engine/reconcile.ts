// `drover reconcile`: when NATS lost its state (store dirs wiped, streams and buckets made again
// empty), the agents' journals are the ground truth of what ran. Every known agent (registry,
// enrolments, or named) is asked over core NATS for its journal, page by page; only pages signed with
// the agent's enrolled key count. Each job found in them gets back a job record and a run record per
// agent that journaled it: its result, `running` while the agent still runs it (a `job resume`
// follows it to its end), `cancelled` for an order cancelled before it started. A job whose record
// survived keeps it; only its missing run records are written. What cannot be known is said: the
// targets that never took an order, the job's parameters and options, and plan runs.
import {
  type JournalPage,
  JournalPageSchema,
  type JournalRecord,
  jobKey,
  journalSubject,
  runKey,
} from '@drover/shared';
import { checkReport, enrolledKeys, readEnrollments } from './agent-keys.ts';
import { listAgents } from './agents.ts';
import { audit } from './audit.ts';
import { readRuns } from './jobs.ts';
import type { Drover } from './nats.ts';
import { DEFAULT_DELIVERY_TIMEOUT_MS } from './options.ts';
import { countStates, type JobRecord, type JobState, parseJob, type RunRecord } from './records.ts';

export interface ReconcileOptions {
  /** Agents to ask besides those in the registry and the enrolments. */
  agents?: readonly string[];
  /** Only jobs whose id starts with this. */
  jobPrefix?: string;
  /** Report what would be written, write nothing. */
  dryRun?: boolean;
  /** How long each agent has to answer one page. @default 5000 */
  timeoutMs?: number;
  /** Who reconciles (audited). */
  by: string;
}

export interface ReconciledJob {
  jobId: string;
  step: string;
  /** rebuilt: no job record was left; completed: run records were missing; unchanged: all there. */
  action: 'rebuilt' | 'completed' | 'unchanged';
  state: JobState;
  /** Targets known from the journals (a rebuilt job's only targets). */
  targets: string[];
  /** Run records written (or, on a dry run, that would be). */
  written: string[];
  counts: Record<string, number>;
}

export interface ReconcileReport {
  asked: number;
  answered: string[];
  /** Agents that did not answer (down, not connected, an agent of an older version). */
  unanswered: string[];
  /** Answers that did not count: unsigned, another key, malformed. */
  refused: Array<{ agentId: string; reason: string }>;
  jobs: ReconciledJob[];
  dryRun: boolean;
}

const PAGE_LIMIT = 200;
/** A step timeout for a rebuilt job's still-running targets: the original is not in any journal. */
const REBUILT_TIMEOUT_MS = 24 * 3600_000;

export async function reconcile(d: Drover, options: ReconcileOptions): Promise<ReconcileReport> {
  const timeoutMs = options.timeoutMs ?? 5000;
  // Everyone who may have run something: the registry (agents write themselves back with their
  // next heartbeat after a loss), the enrolments, and the agents named.
  const registry = await listAgents(d.agents);
  const enrolments = await readEnrollments(d.agentKeys);
  const ids = [...new Set([...registry.map((a) => a.id), ...enrolments.keys(), ...(options.agents ?? [])])].sort();
  const { keys, missing } = await enrolledKeys(d.agentKeys, ids);

  const report: ReconcileReport = {
    asked: ids.length,
    answered: [],
    unanswered: [],
    refused: missing.map((agentId) => ({ agentId, reason: `agent ${agentId} is not enrolled (enrol it again first)` })),
    jobs: [],
    dryRun: options.dryRun ?? false,
  };
  const refusedIds = new Set(missing);
  // jobId -> agentId -> what the agent's journal says.
  const byJob = new Map<
    string,
    Map<string, { record?: JournalRecord; cancelled?: { orderId: string; at: number; reason: string } }>
  >();
  const note = (jobId: string, agentId: string) => {
    const job = byJob.get(jobId) ?? new Map();
    byJob.set(jobId, job);
    const entry = job.get(agentId) ?? {};
    job.set(agentId, entry);
    return entry;
  };

  await inBatches(
    ids.filter((id) => !refusedIds.has(id)),
    32,
    async (agentId) => {
      const pages = await readJournal(d, agentId, options.jobPrefix, timeoutMs, (body) =>
        checkReport(keys, agentId, body),
      );
      if (pages.kind === 'unanswered') return report.unanswered.push(agentId);
      if (pages.kind === 'refused') return report.refused.push({ agentId, reason: pages.reason });
      report.answered.push(agentId);
      for (const page of pages.pages) {
        for (const record of page.records) note(record.jobId, agentId).record = record;
        for (const cancel of page.cancels) note(cancel.jobId, agentId).cancelled ??= cancel;
      }
    },
  );
  report.answered.sort();
  report.unanswered.sort();

  for (const [jobId, agents] of [...byJob].sort(([a], [b]) => a.localeCompare(b))) {
    const runs = new Map<string, RunRecord>();
    for (const [agentId, entry] of agents) runs.set(agentId, runFromJournal(jobId, agentId, entry));
    const targets = [...runs.keys()].sort();
    const step = [...agents.values()].find((e) => e.record)?.record?.step ?? '';
    const existing = parseJob((await d.jobs.get(jobKey(jobId)))?.json());
    if (existing) {
      const kept = await readRuns(d.runs, existing);
      const written = targets.filter((id) => !kept.get(id) || kept.get(id)?.state === 'pending');
      // A surviving run record is the coordinator's word; the journal only fills what is missing.
      if (!report.dryRun) for (const id of written) await putRun(d, runs.get(id) as RunRecord);
      const merged = [...kept.values()].map((r) => (written.includes(r.agentId) ? (runs.get(r.agentId) ?? r) : r));
      report.jobs.push({
        jobId,
        step: existing.step,
        action: written.length > 0 ? 'completed' : 'unchanged',
        state: existing.state,
        targets,
        written,
        counts: countStates(merged),
      });
      continue;
    }
    const counts = countStates(runs.values());
    const running = [...runs.values()].some((r) => r.state === 'running');
    const state: JobState = running ? 'running' : counts.succeeded === runs.size ? 'succeeded' : 'failed';
    const startedAt = Math.min(...[...runs.values()].map((r) => r.acceptedAt ?? r.finishedAt ?? Date.now()));
    const job: JobRecord = {
      id: jobId,
      step,
      params: {},
      selector: '',
      agents: targets,
      options: {
        concurrency: { percent: 100 },
        maxErrors: { count: 0 },
        timeoutMs: REBUILT_TIMEOUT_MS,
        deliveryTimeoutMs: DEFAULT_DELIVERY_TIMEOUT_MS,
      },
      groups: [{ key: '', agents: targets }],
      createdAt: startedAt,
      createdBy: `reconcile:${options.by}`,
      state,
      cancelRequested: false,
      counts,
      ...(running ? {} : { finishedAt: Math.max(...[...runs.values()].map((r) => r.finishedAt ?? 0)) }),
      message: `rebuilt by drover reconcile from ${targets.length} agent journal(s): its parameters, options and any target that never took an order are not known`,
    };
    if (!report.dryRun) {
      for (const run of runs.values()) await putRun(d, run);
      await d.jobs.create(jobKey(jobId), JSON.stringify(job));
      await audit(d, 'job', jobId, {
        type: 'job-reconciled',
        jobId,
        by: options.by,
        state,
        counts,
        targets,
        at: Date.now(),
      });
    }
    report.jobs.push({ jobId, step, action: 'rebuilt', state, targets, written: targets, counts });
  }
  return report;
}

/** The run record an agent's journal entry stands for. */
export function runFromJournal(
  jobId: string,
  agentId: string,
  entry: { record?: JournalRecord; cancelled?: { orderId: string; at: number; reason: string } },
): RunRecord {
  const record = entry.record;
  const orderId = record?.orderId ?? entry.cancelled?.orderId;
  const base = { jobId, agentId, group: '', ...(orderId ? { orderId } : {}) };
  if (!record)
    return {
      ...base,
      state: 'cancelled',
      finishedAt: entry.cancelled?.at ?? Date.now(),
      reason: `cancelled before it started: ${entry.cancelled?.reason ?? ''}`,
    };
  if (record.result)
    return {
      ...base,
      state: record.result.status,
      acceptedAt: record.startedAt,
      finishedAt: record.result.finishedAt,
      result: record.result,
    };
  if (record.running) return { ...base, state: 'running', acceptedAt: record.startedAt };
  return {
    ...base,
    state: 'failed',
    acceptedAt: record.startedAt,
    finishedAt: Date.now(),
    reason: 'started, no result, and the agent does not run it now (interrupted)',
  };
}

async function putRun(d: Drover, run: RunRecord): Promise<void> {
  await d.runs.put(runKey(run.jobId, run.agentId), JSON.stringify(run));
}

type Pages = { kind: 'pages'; pages: JournalPage[] } | { kind: 'unanswered' } | { kind: 'refused'; reason: string };

async function readJournal(
  d: Drover,
  agentId: string,
  jobPrefix: string | undefined,
  timeoutMs: number,
  verify: (body: unknown) => { ok: true } | { ok: false; reason: string },
): Promise<Pages> {
  const pages: JournalPage[] = [];
  let offset: number | undefined = 0;
  while (offset !== undefined) {
    let raw: unknown;
    try {
      const reply = await d.nc.request(
        journalSubject(agentId),
        JSON.stringify({ offset, limit: PAGE_LIMIT, ...(jobPrefix ? { jobPrefix } : {}) }),
        { timeout: timeoutMs },
      );
      raw = reply.json();
    } catch {
      return pages.length === 0 ? { kind: 'unanswered' } : { kind: 'refused', reason: 'stopped answering mid-journal' };
    }
    const verified = verify(raw);
    if (!verified.ok) return { kind: 'refused', reason: verified.reason };
    const parsed = JournalPageSchema.safeParse(raw);
    if (!parsed.success)
      return { kind: 'refused', reason: `malformed journal page: ${parsed.error.issues[0]?.message}` };
    if (parsed.data.error) return { kind: 'refused', reason: `the agent refused the query: ${parsed.data.error}` };
    pages.push(parsed.data);
    offset = parsed.data.next !== undefined && parsed.data.next > offset ? parsed.data.next : undefined;
  }
  return { kind: 'pages', pages };
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}
