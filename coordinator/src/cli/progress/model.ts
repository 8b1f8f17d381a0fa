// The live progress of a plan run or of jobs, as a pure model: what `apply`, `run describe --watch`
// and `tail` draw as bars on a terminal. Everything the commands see (the run record, the run's own
// events, the driver's target records, the agents' accepted/progress/result events and the job's
// events) is an action; `reduce` folds it into phases -> steps -> targets and never touches I/O, so
// the display is a function of what happened, in any order it arrived.
//
// Worked example: apply of phases [prepare: settle(sleep)] on agents a1, a2.
//   {run: PlanRun}                      -> phase prepare pending, step settle pending
//   {runEvent: step-started, job j1}    -> prepare running, settle running (job j1)
//   {target: j1/a1 dispatched}          -> settle targets: a1 dispatched
//   {event: j1/a1 progress 50%}         -> a1 running, 50%, "slept 1s of 2s"
//   {event: j1/a1 result succeeded}     -> a1 succeeded (100% kept, a bar that was shown ends full)
//   {target: j1/a1 running} (late)      -> ignored: a final state never goes back
import type { JobEvent } from '@drover/shared';
import type { RunRecord, TailEvent } from '../../engine/index.ts';
import type { PlanRun, RunEvent } from '../../plan/index.ts';

export interface TargetView {
  agentId: string;
  /** A target state (pending, dispatched, running, succeeded, failed, …). */
  state: string;
  /** The latest progress event's percent, when it had one. */
  percent?: number;
  /** The latest progress event's message, or why the target ended as it did. */
  message?: string;
}

export interface StepView {
  name: string;
  kind: 'step' | 'gate' | 'rollback' | 'job';
  jobId?: string;
  /** pending, running, succeeded, failed, cancelled. */
  state: string;
  /** Targets in the order they were first seen. */
  targets: TargetView[];
  /** How many targets the job has, once known (the driver's count); else the targets seen. */
  total?: number;
}

export interface PhaseView {
  name: string;
  /** pending, running, awaiting-approval, succeeded, failed, cancelled, rolling-back, … */
  state: string;
  steps: StepView[];
}

export interface ProgressView {
  title: string;
  /** The run's state (plan runs), or undefined while following jobs. */
  state?: string;
  message?: string;
  phases: PhaseView[];
}

export type ProgressAction =
  /** The run record as read or written: phases, steps, their states and job ids. */
  | { type: 'run'; run: PlanRun }
  /** One of the run's own events (phase-started, step-started, step-failed, succeeded, …). */
  | { type: 'run-event'; event: RunEvent }
  /** The driver's record of one target (its state, the verdict's reason). */
  | { type: 'target'; record: RunRecord; total?: number }
  /** An event from the events stream: an agent's accepted/progress/result, a job or run event. */
  | { type: 'event'; event: TailEvent };

/** Where events of a job that no run step names go (tail of one job, or of every job). */
export const JOBS_PHASE = 'jobs';

const FINAL_TARGET = new Set(['succeeded', 'failed', 'rejected', 'timed-out', 'no-response', 'cancelled', 'skipped']);
const TARGET_RANK: Record<string, number> = { pending: 0, dispatched: 1, running: 2 };
/** Run states in which nothing more happens until someone acts (approve, resume, rollback). */
const ACTIVE_RUN_STATES = new Set(['running', 'rolling-back']);

export function isFinalTarget(state: string): boolean {
  return FINAL_TARGET.has(state);
}

export function isFinalStep(state: string): boolean {
  return state !== 'pending' && state !== 'running';
}

/** A run that is not running or rolling back waits for a person (or is over): a watch ends there. */
export function isRunSettled(view: ProgressView): boolean {
  return view.state !== undefined && !ACTIVE_RUN_STATES.has(view.state);
}

export function emptyView(title: string): ProgressView {
  return { title, phases: [] };
}

/** A run's view: its phases and steps from the record (what `run describe --watch` starts from). */
export function viewOfRun(run: PlanRun): ProgressView {
  return reduce({ title: `run ${run.id}: plan ${run.name}`, phases: [] }, { type: 'run', run });
}

/** One job's view (`tail JOB`): its step and every target, queued until events say otherwise. */
export function viewOfJob(jobId: string, step: string, agentIds: readonly string[]): ProgressView {
  return {
    title: `job ${jobId}`,
    phases: [
      {
        name: `job ${jobId}`,
        state: 'running',
        steps: [
          {
            name: step,
            kind: 'job',
            jobId,
            state: 'running',
            targets: agentIds.map((agentId) => ({ agentId, state: 'pending' })),
          },
        ],
      },
    ],
  };
}

export function reduce(view: ProgressView, action: ProgressAction): ProgressView {
  switch (action.type) {
    case 'run':
      return fromRunRecord(view, action.run);
    case 'run-event':
      return onRunEvent(view, action.event);
    case 'target':
      return onTargetRecord(view, action.record, action.total);
    case 'event':
      return onStreamEvent(view, action.event);
  }
}

function fromRunRecord(view: ProgressView, run: PlanRun): ProgressView {
  const phases = run.phases.map((phase, pi): PhaseView => {
    const before = view.phases[pi]?.name === phase.name ? view.phases[pi] : undefined;
    const records = [...phase.steps, ...phase.rollback.filter((s) => s.state !== 'pending')];
    const steps = records.map((s): StepView => {
      const old = before?.steps.find((o) => o.name === s.name && o.kind === s.kind);
      // A step's targets belong to its job: a new attempt (another job) starts with none.
      const keep = old && old.jobId === s.jobId ? old : undefined;
      return {
        name: s.name,
        kind: s.kind,
        ...(s.jobId ? { jobId: s.jobId } : {}),
        state: s.state,
        targets: keep?.targets ?? [],
        ...(keep?.total !== undefined ? { total: keep.total } : {}),
      };
    });
    return { name: phase.name, state: phase.state, steps };
  });
  const { message: _m, ...rest } = view;
  return { ...rest, state: run.state, ...(run.message ? { message: run.message } : {}), phases };
}

const STEP_STATE_OF_EVENT: Partial<Record<RunEvent['type'], string>> = {
  'step-started': 'running',
  'step-finished': 'succeeded',
  'gate-passed': 'succeeded',
  'step-failed': 'failed',
  'gate-failed': 'failed',
};
const PHASE_STATE_OF_EVENT: Partial<Record<RunEvent['type'], string>> = {
  'phase-started': 'running',
  'awaiting-approval': 'awaiting-approval',
  'phase-succeeded': 'succeeded',
  'phase-failed': 'failed',
  'phase-rolled-back': 'rolled-back',
};
const RUN_STATE_OF_EVENT: Partial<Record<RunEvent['type'], string>> = {
  started: 'running',
  resumed: 'running',
  approved: 'running',
  'awaiting-approval': 'awaiting-approval',
  paused: 'paused',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  'rollback-started': 'rolling-back',
  'rolled-back': 'rolled-back',
  'rollback-failed': 'rollback-failed',
};

function onRunEvent(view: ProgressView, event: RunEvent): ProgressView {
  let next = view;
  const runState = RUN_STATE_OF_EVENT[event.type];
  if (runState) next = { ...next, state: runState };
  if (event.type === 'failed' || event.type === 'rollback-failed') next = { ...next, message: event.message };
  if (!event.phase) return next;
  const phaseState = PHASE_STATE_OF_EVENT[event.type];
  const stepState = STEP_STATE_OF_EVENT[event.type];
  return updatePhase(next, event.phase, (phase) => {
    let p = phaseState ? { ...phase, state: phaseState } : phase;
    if (stepState && event.step) {
      const kind = event.message.startsWith('rollback ') ? 'rollback' : undefined;
      p = updateStep(p, event.step, kind, (step) => {
        const newJob = event.jobId !== undefined && event.jobId !== step.jobId;
        return {
          ...step,
          state: stepState,
          ...(event.jobId ? { jobId: event.jobId } : {}),
          ...(newJob ? { targets: [], total: undefined } : {}),
        };
      });
      // A step running means its phase is too (an event may come before the record says so).
      if (stepState === 'running' && p.state === 'pending') p = { ...p, state: 'running' };
    }
    return p;
  });
}

function onTargetRecord(view: ProgressView, record: RunRecord, total?: number): ProgressView {
  const reason = record.result?.error
    ? `${record.result.error.name}: ${record.result.error.message}`
    : (record.reason ?? undefined);
  return updateJob(view, record.jobId, (step) => {
    const withTotal = total !== undefined && total > 0 ? { ...step, total } : step;
    return updateTarget(withTotal, record.agentId, (t) => {
      // The driver's final word stands over anything an event said; a non-final one never undoes a final one.
      if (isFinalTarget(t.state) && !isFinalTarget(record.state)) return t;
      if (!isFinalTarget(record.state) && (TARGET_RANK[record.state] ?? 0) < (TARGET_RANK[t.state] ?? 0)) return t;
      return withEnd({ ...t, state: record.state }, reason);
    });
  });
}

function onStreamEvent(view: ProgressView, event: TailEvent): ProgressView {
  const d = event.data;
  switch (event.kind) {
    case 'run':
      return isRunEventData(d) ? onRunEvent(view, d) : view;
    case 'accepted':
      return updateJob(view, event.jobId, (step) =>
        updateTarget(step, event.agentId, (t) => (isFinalTarget(t.state) ? t : { ...t, state: 'running' })),
      );
    case 'progress': {
      const percent = typeof d.percent === 'number' && Number.isFinite(d.percent) ? clampPercent(d.percent) : undefined;
      const message = typeof d.message === 'string' ? d.message : undefined;
      return updateJob(view, event.jobId, (step) =>
        updateTarget(step, event.agentId, (t) => {
          if (isFinalTarget(t.state)) return t;
          const { percent: _p, message: _m, ...rest } = t;
          return {
            ...rest,
            state: 'running',
            ...(percent !== undefined ? { percent } : {}),
            ...(message !== undefined ? { message } : {}),
          };
        }),
      );
    }
    case 'result': {
      const status = typeof d.status === 'string' ? d.status : undefined;
      if (!status) return view;
      const error = d.error as { name?: string; message?: string } | undefined;
      return updateJob(view, event.jobId, (step) =>
        updateTarget(step, event.agentId, (t) =>
          isFinalTarget(t.state) ? t : withEnd({ ...t, state: status }, error?.message),
        ),
      );
    }
    case 'job':
      return onJobEvent(view, event.jobId, d as Partial<JobEvent>);
    default:
      return view;
  }
}

function onJobEvent(view: ProgressView, jobId: string, d: Partial<JobEvent>): ProgressView {
  if (d.type === 'verdict' && d.agentId && d.state) {
    const { agentId, state } = d;
    return updateJob(view, jobId, (step) =>
      updateTarget(step, agentId, (t) => (isFinalTarget(t.state) ? t : withEnd({ ...t, state }, d.message))),
    );
  }
  if (d.type === 'started' || d.type === 'resumed')
    return updateJob(view, jobId, (step) => (step.state === 'pending' ? { ...step, state: 'running' } : step));
  if (d.type === 'finished') {
    const failed = Object.entries(d.counts ?? {}).some(
      ([state, n]) => n > 0 && ['failed', 'rejected', 'timed-out', 'no-response', 'cancelled'].includes(state),
    );
    // A run's step keeps its state from the run (maxErrors decides there); a bare job ends here,
    // and so does a phase of bare jobs that have all ended.
    const next = updateJob(view, jobId, (step) =>
      step.kind === 'job' ? { ...step, state: failed ? 'failed' : 'succeeded' } : step,
    );
    return {
      ...next,
      phases: next.phases.map((p) =>
        p.steps.length > 0 && p.steps.every((s) => s.kind === 'job' && isFinalStep(s.state))
          ? { ...p, state: p.steps.some((s) => s.state !== 'succeeded') ? 'failed' : 'succeeded' }
          : p,
      ),
    };
  }
  return view;
}

/** A final state: a bar that was shown ends full on success; the reason replaces the last message. */
function withEnd(t: TargetView, reason: string | undefined): TargetView {
  const done = t.state === 'succeeded' && t.percent !== undefined ? { ...t, percent: 100 } : t;
  return reason ? { ...done, message: reason } : done;
}

function clampPercent(p: number): number {
  return Math.min(100, Math.max(0, p));
}

function isRunEventData(d: Record<string, unknown>): d is RunEvent & Record<string, unknown> {
  return typeof d.type === 'string' && typeof d.message === 'string' && typeof d.runId === 'string';
}

function updatePhase(view: ProgressView, name: string, change: (p: PhaseView) => PhaseView): ProgressView {
  const index = view.phases.findIndex((p) => p.name === name);
  if (index < 0) return { ...view, phases: [...view.phases, change({ name, state: 'pending', steps: [] })] };
  return { ...view, phases: view.phases.map((p, i) => (i === index ? change(p) : p)) };
}

function updateStep(
  phase: PhaseView,
  name: string,
  kind: StepView['kind'] | undefined,
  change: (s: StepView) => StepView,
): PhaseView {
  const index = phase.steps.findIndex((s) => s.name === name && (kind === undefined || s.kind === kind));
  if (index < 0)
    return { ...phase, steps: [...phase.steps, change({ name, kind: kind ?? 'step', state: 'pending', targets: [] })] };
  return { ...phase, steps: phase.steps.map((s, i) => (i === index ? change(s) : s)) };
}

/**
 * Changes the step that runs `jobId`. A job no step names yet (tail, or an event before the run
 * record) gets a step of its own under the `jobs` phase.
 */
function updateJob(view: ProgressView, jobId: string, change: (s: StepView) => StepView): ProgressView {
  for (const [pi, phase] of view.phases.entries()) {
    const si = phase.steps.findIndex((s) => s.jobId === jobId);
    if (si < 0) continue;
    const steps = phase.steps.map((s, i) => (i === si ? change(s) : s));
    return { ...view, phases: view.phases.map((p, i) => (i === pi ? { ...phase, steps } : p)) };
  }
  return updatePhase(view, JOBS_PHASE, (phase) => ({
    ...(phase.state === 'pending' ? { ...phase, state: 'running' } : phase),
    steps: [...phase.steps, change({ name: jobId, kind: 'job', jobId, state: 'running', targets: [] })],
  }));
}

function updateTarget(step: StepView, agentId: string, change: (t: TargetView) => TargetView): StepView {
  const index = step.targets.findIndex((t) => t.agentId === agentId);
  if (index < 0) return { ...step, targets: [...step.targets, change({ agentId, state: 'pending' })] };
  return { ...step, targets: step.targets.map((t, i) => (i === index ? change(t) : t)) };
}
