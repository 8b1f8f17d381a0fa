// One step of a plan phase is one ordinary executor job with a deterministic id (run, phase, step,
// attempt): created if it does not exist yet, then driven to its end (a job a dead coordinator had
// started is taken over: its orders are republished identically and never run twice). Then its
// outcome is judged: errors past `maxErrors` (job `stopped`) or a cancel fail the step; a gate
// check also needs every target to succeed and its result to satisfy every condition.
import {
  checkCondition,
  DroverError,
  ERROR_TARGET_STATES,
  type JobEvent,
  type OrderSigner,
  type PlanCondition,
} from '@drover/shared';
import {
  createJob,
  type Drover,
  driveJob,
  formatCounts,
  isWrongRevision,
  JobLeasedError,
  JobNotFoundError,
  type JobRecord,
  type JobSummary,
  prepareJob,
  type RunRecord,
  readJob,
  resolveCount,
} from '../engine/index.ts';
import type { ResolvedStep } from './types.ts';

export interface StepJobContext {
  coordinatorId: string;
  signer: OrderSigner;
  /** Aborted when the run's lease is lost: the job is left for the new owner. */
  signal: AbortSignal;
  tickMs?: number;
  onTarget?: (run: RunRecord) => void;
  onJobEvent?: (event: JobEvent) => void;
  /** The job the step runs, once it exists (for progress: its targets). */
  onJob?: (job: JobRecord) => void;
}

export interface StepOutcome {
  /** The step may count as done. */
  ok: boolean;
  cancelled: boolean;
  /** The lease was lost or the caller aborted: nothing may be concluded or written. */
  aborted: boolean;
  jobState: string;
  counts: Record<string, number>;
  message: string;
}

const MAX_REASONS = 5;

export async function runStepJob(
  d: Drover,
  ctx: StepJobContext,
  jobId: string,
  step: ResolvedStep,
  expect?: readonly PlanCondition[],
): Promise<StepOutcome> {
  const created = await ensureJob(d, ctx, jobId, step);
  if (created) return created;
  ctx.onJob?.((await readJob(d.jobs, jobId)).job);
  let summary: JobSummary | undefined;
  for (let attempt = 0; !summary; attempt++) {
    try {
      summary = await driveJob(d, jobId, {
        coordinatorId: ctx.coordinatorId,
        signer: ctx.signer,
        signal: ctx.signal,
        ...(ctx.tickMs ? { tickMs: ctx.tickMs } : {}),
        ...(ctx.onTarget ? { onRun: ctx.onTarget } : {}),
        ...(ctx.onJobEvent ? { onJobEvent: ctx.onJobEvent } : {}),
      });
    } catch (error) {
      // The job's lease was renewed while it was watched (driveJob waits out a dead holder itself):
      // another coordinator is still on it; look again shortly, a few times, then give up.
      if (!(error instanceof JobLeasedError) || attempt >= 3 || ctx.signal.aborted) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  if (ctx.signal.aborted || summary.job.state === 'running')
    return { ok: false, cancelled: false, aborted: true, jobState: 'running', counts: summary.counts, message: '' };
  return judge(step, summary, expect);
}

/** Creates the job unless it exists; an outcome when it cannot be created (nothing dispatched). */
async function ensureJob(
  d: Drover,
  ctx: StepJobContext,
  jobId: string,
  step: ResolvedStep,
): Promise<StepOutcome | undefined> {
  try {
    await readJob(d.jobs, jobId);
    return undefined;
  } catch (error) {
    if (!(error instanceof JobNotFoundError)) throw error;
  }
  try {
    const prepared = await prepareJob(d, {
      id: jobId,
      step: step.step,
      params: step.params,
      selector: 'selector' in step.target ? step.target.selector : '',
      ...('agents' in step.target ? { agents: step.target.agents } : {}),
      options: step.options,
      createdBy: ctx.coordinatorId,
    });
    await createJob(d, prepared);
    return undefined;
  } catch (error) {
    if (isWrongRevision(error)) return undefined; // another coordinator created it first: drive that one
    if (!(error instanceof DroverError)) throw error;
    return {
      ok: false,
      cancelled: false,
      aborted: false,
      jobState: 'not-created',
      counts: {},
      message: `step ${step.name} not started: ${error.message}`,
    };
  }
}

function judge(step: ResolvedStep, summary: JobSummary, expect?: readonly PlanCondition[]): StepOutcome {
  const { job, counts, runs } = summary;
  const base = { aborted: false, jobState: job.state, counts, cancelled: job.state === 'cancelled' };
  const total = runs.length;
  const describe = `${step.name} (${step.step} on ${total} target(s), job ${job.id}): ${formatCounts(counts)}`;
  if (job.state === 'cancelled') return { ...base, ok: false, message: `${describe}; cancelled` };
  // Errors are counted here, not read from the job's state: a job whose last target failed ends
  // `failed` (not `stopped`) when nothing was left to dispatch, whatever its threshold.
  const errors = ERROR_TARGET_STATES.reduce((n, state) => n + (counts[state] ?? 0), 0);
  const allowed = resolveCount(step.options.maxErrors, total);
  if (job.state === 'stopped' || errors > allowed || (job.state !== 'succeeded' && job.state !== 'failed'))
    return {
      ...base,
      ok: false,
      message: `${describe}; ${errors} error(s) exceed maxErrors ${allowed}: ${reasons(runs)}`,
    };
  if (!expect) return { ...base, ok: true, message: describe };
  const failures: string[] = [];
  for (const run of runs) {
    if (run.state !== 'succeeded') {
      failures.push(`${run.agentId}: ${run.state}${run.reason ? ` (${run.reason})` : ''}`);
      continue;
    }
    for (const condition of expect) {
      const verdict = checkCondition(run.result?.output, condition);
      if (!verdict.ok) failures.push(`${run.agentId}: ${verdict.reason}${detail(run.result?.output)}`);
    }
  }
  if (failures.length === 0) return { ...base, ok: true, message: `gate ${describe}; every condition holds` };
  const shown = failures.slice(0, MAX_REASONS).join('; ');
  const more = failures.length > MAX_REASONS ? `; and ${failures.length - MAX_REASONS} more` : '';
  return { ...base, ok: false, message: `gate ${step.name} failed on ${job.id}: ${shown}${more}` };
}

/** A step's own explanation, when its result carries one (`problems`, as kafka.verify's does). */
function detail(output: unknown): string {
  const problems = (output as { problems?: unknown } | undefined)?.problems;
  if (!Array.isArray(problems) || problems.length === 0) return '';
  return ` (${problems.slice(0, 3).map(String).join('; ')}${problems.length > 3 ? '; …' : ''})`;
}

function reasons(runs: readonly RunRecord[]): string {
  const bad = runs.filter((r) => r.state !== 'succeeded' && r.state !== 'skipped');
  const text = bad
    .slice(0, MAX_REASONS)
    .map(
      (r) =>
        `${r.agentId} ${r.state}${r.result?.error ? `: ${r.result.error.message}` : r.reason ? `: ${r.reason}` : ''}`,
    )
    .join('; ');
  return bad.length > MAX_REASONS ? `${text}; and ${bad.length - MAX_REASONS} more` : text;
}
