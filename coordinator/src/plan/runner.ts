// The plan run state machine. Phases run strictly in order; in a phase, its steps, then its gate
// checks, each as one executor job. A step past its maxErrors, or a failing gate, ends the run
// `failed` at that phase and nothing more is dispatched; `resume` then runs the failed step again as
// its next attempt (steps that succeeded are never dispatched again), `rollback` undoes. An approval
// point stops the run (`awaiting-approval`) until `drover run approve`. Every transition is a
// compare-and-set under the run's lease, emitted as a run event and audited, so a coordinator
// killed anywhere resumes exactly where the record says.
//
// Worked example: phases [prepare, move(approval), finish]; `apply` runs prepare's steps and gate,
// stops at move (awaiting-approval); `run approve` records the approval and drives move; its second
// step fails -> run failed at phase 1 (move), step 1 attempt 1; `run resume` -> step 1 attempt 2
// (job `<run>-p1-s1-a2`), then finish; or `run rollback` -> move's rollback, then prepare's.
import { isFinalTargetState, type JobEvent, type OrderSigner } from '@drover/shared';
import { type Drover, type RunRecord, readJob, requestCancel } from '../engine/index.ts';
import { RunStateError } from './errors.ts';
import { emitRunEvent, type RunEvent, type RunEventSink } from './events.ts';
import { RunLease } from './lease.ts';
import { runStepJob, type StepOutcome } from './step-job.ts';
import { type RunStore, readRunPlan, stepJobId } from './store.ts';
import type {
  PhaseRun,
  PlanRun,
  ResolvedGateCheck,
  ResolvedPhase,
  ResolvedPlan,
  ResolvedStep,
  StepRun,
} from './types.ts';

export interface RunDriveOptions {
  coordinatorId: string;
  signer: OrderSigner;
  /** Approve every approval point as it comes (`apply --yes`). */
  autoApprove?: boolean;
  /** Stop (paused) after this phase; replaces the run's own `until` when given. */
  until?: string;
  tickMs?: number;
  onEvent?: RunEventSink;
  /** A target's state changed; `done` of `total` targets of this step are in a final state. */
  onTarget?: (run: RunRecord, step: string, progress: { done: number; total: number }) => void;
  onJobEvent?: (event: JobEvent) => void;
  /**
   * A run another coordinator holds: watch its lease for one LEASE_MS and take it if it lapses
   * (true, the default), or refuse at once (false).
   */
  leaseWait?: boolean;
  /**
   * The resolved plan the caller created this run with (`createRun` in the same process), instead
   * of reading it back: a big plan is then held once (the rehearsal drives hundreds of runs).
   */
  plan?: ResolvedPlan;
}

type StepKind = StepRun['kind'];

/** Everything one drive needs, built once. */
class Drive {
  readonly d: Drover;
  readonly lease: RunLease;
  readonly plan: ResolvedPlan;
  readonly options: RunDriveOptions;
  /** The job being driven, for cancel requests seen on lease renewal. */
  currentJob: string | undefined;
  private cancelSent = new Set<string>();

  constructor(d: Drover, lease: RunLease, plan: ResolvedPlan, options: RunDriveOptions) {
    this.d = d;
    this.lease = lease;
    this.plan = plan;
    this.options = options;
    lease.onRenew = (run) => {
      if (run.cancelRequested && this.currentJob) void this.cancelJob(this.currentJob);
    };
  }

  get run(): PlanRun {
    return this.lease.run;
  }

  async cancelJob(jobId: string): Promise<void> {
    if (this.cancelSent.has(jobId)) return;
    this.cancelSent.add(jobId);
    await requestCancel(this.d.jobs, jobId).catch(() => this.cancelSent.delete(jobId));
  }

  event(event: Omit<RunEvent, 'at' | 'runId'>): Promise<unknown> {
    return emitRunEvent(this.d, this.options.onEvent, { runId: this.run.id, ...event });
  }

  /** Writes a change to one phase (and optionally the run) under the lease. */
  async writePhase(pi: number, change: (phase: PhaseRun, run: PlanRun) => void): Promise<PlanRun> {
    return this.lease.write((run) => {
      const phase = run.phases[pi];
      if (phase) change(phase, run);
      return run;
    });
  }

  /** Runs one step (or gate check, or rollback step) to its end and records the outcome. */
  async step(
    pi: number,
    kind: StepKind,
    index: number,
    step: ResolvedStep | ResolvedGateCheck,
  ): Promise<StepOutcome | undefined> {
    const list = (p: PhaseRun) => (kind === 'rollback' ? p.rollback : p.steps);
    const record = list(this.run.phases[pi] as PhaseRun)[index] as StepRun;
    const jobId = stepJobId(this.run.id, pi, kind, index, record.attempt);
    if (record.state !== 'running' || record.jobId !== jobId) {
      await this.writePhase(pi, (p) => {
        Object.assign(list(p)[index] as StepRun, { jobId, state: 'running', startedAt: Date.now() });
      });
      await this.event({
        type: 'step-started',
        phase: this.plan.phases[pi]?.name,
        step: step.name,
        jobId,
        message: `${kind} ${step.name}: ${step.step} (job ${jobId}, attempt ${record.attempt})`,
      });
    }
    this.currentJob = jobId;
    if (this.run.cancelRequested) await this.cancelJob(jobId);
    const progress = { done: 0, total: 0 };
    const finished = new Set<string>();
    const outcome = await runStepJob(
      this.d,
      {
        coordinatorId: this.options.coordinatorId,
        signer: this.options.signer,
        signal: this.lease.signal,
        ...(this.options.tickMs ? { tickMs: this.options.tickMs } : {}),
        onJob: (job) => {
          progress.total = job.groups.reduce((n, g) => n + g.agents.length, 0);
        },
        onTarget: (r: RunRecord) => {
          if (isFinalTargetState(r.state)) finished.add(r.agentId);
          progress.done = finished.size;
          this.options.onTarget?.(r, step.name, progress);
        },
        ...(this.options.onJobEvent ? { onJobEvent: this.options.onJobEvent } : {}),
      },
      jobId,
      step,
      kind === 'gate' && 'expect' in step ? step.expect : undefined,
    );
    this.currentJob = undefined;
    if (outcome.aborted) return undefined;
    await this.writePhase(pi, (p) => {
      Object.assign(list(p)[index] as StepRun, {
        state: outcome.ok ? 'succeeded' : outcome.cancelled ? 'cancelled' : 'failed',
        jobState: outcome.jobState,
        counts: outcome.counts,
        message: outcome.message,
        finishedAt: Date.now(),
      });
    });
    await this.event({
      type: outcome.ok
        ? kind === 'gate'
          ? 'gate-passed'
          : 'step-finished'
        : kind === 'gate'
          ? 'gate-failed'
          : 'step-failed',
      phase: this.plan.phases[pi]?.name,
      step: step.name,
      jobId,
      message: outcome.message,
    });
    return outcome;
  }

  /** Cancels and settles any step job a dead coordinator left running in phase `pi`. */
  async settleInFlight(pi: number): Promise<void> {
    const phase = this.run.phases[pi];
    const planPhase = this.plan.phases[pi];
    if (!phase || !planPhase) return;
    for (const kind of ['steps', 'rollback'] as const) {
      for (const [index, record] of phase[kind].entries()) {
        if (record.state !== 'running' || !record.jobId) continue;
        const job = await readJob(this.d.jobs, record.jobId).catch(() => undefined);
        if (job?.job.state === 'running') await this.cancelJob(record.jobId);
        const step = kind === 'rollback' ? planPhase.rollback[index] : stepsOf(planPhase)[index];
        if (step) await this.step(pi, record.kind, index, step);
      }
    }
  }
}

/** A phase's steps then its gate checks, as the run record lists them. */
function stepsOf(phase: ResolvedPhase): Array<ResolvedStep | ResolvedGateCheck> {
  return [...phase.steps, ...phase.gate];
}

/** Failed or cancelled steps of the phase get their next attempt; the phase and run are running again. */
function admitResume(run: PlanRun, until: string | undefined): PlanRun {
  if (run.state === 'succeeded') throw new RunStateError(run.id, run.state, 'every phase is done; nothing to resume');
  if (run.state === 'rolling-back' || run.state === 'rollback-failed' || run.state === 'rolled-back')
    throw new RunStateError(run.id, run.state, "it is being rolled back; continue with 'drover run rollback'");
  if (run.state === 'failed' || run.state === 'cancelled') {
    const phase = run.phases[run.phase];
    for (const step of phase?.steps ?? []) {
      if (step.state === 'failed' || step.state === 'cancelled') {
        step.attempt += 1;
        step.state = 'pending';
        delete step.jobId;
        delete step.jobState;
        delete step.counts;
        delete step.message;
      }
    }
    if (phase && (phase.state === 'failed' || phase.state === 'cancelled')) phase.state = 'pending';
    run.cancelRequested = false;
    delete run.finishedAt;
    delete run.message;
  }
  if (until !== undefined) run.until = until;
  run.state = 'running';
  return run;
}

/** Drives a run forward from where its record says, until it succeeds, fails, pauses or waits for approval. */
export async function driveRun(d: Drover, store: RunStore, runId: string, options: RunDriveOptions): Promise<PlanRun> {
  const plan = options.plan ?? (await readRunPlan(store, runId));
  let before: PlanRun['state'] | undefined;
  const lease = await RunLease.take(store, runId, options.coordinatorId, options.leaseWait, (run) => {
    before = run.state;
    if (run.cancelRequested && run.state === 'running') return run; // finish the cancel it asked for
    return admitResume(run, options.until);
  });
  const drive = new Drive(d, lease, plan, options);
  try {
    const fresh = lease.run.phases.every((p) => p.state === 'pending');
    await drive.event({
      type: fresh ? 'started' : 'resumed',
      message: `${fresh ? 'started' : `resumed (was ${before})`} at phase ${lease.run.phase + 1}/${plan.phases.length} ${plan.phases[lease.run.phase]?.name}`,
    });
    await forward(drive);
  } finally {
    await lease.release();
  }
  return lease.run;
}

async function forward(drive: Drive): Promise<void> {
  const { plan } = drive;
  for (let pi = drive.run.phase; pi < plan.phases.length; pi++) {
    const phase = plan.phases[pi] as ResolvedPhase;
    const record = drive.run.phases[pi] as PhaseRun;
    if (drive.run.cancelRequested) return cancel(drive, pi);
    if (record.state === 'succeeded') continue;
    if (phase.approval && record.approvedAt === undefined) {
      if (!drive.options.autoApprove) {
        await drive.writePhase(pi, (p, run) => {
          p.state = 'awaiting-approval';
          run.phase = pi;
          run.state = 'awaiting-approval';
        });
        await drive.event({
          type: 'awaiting-approval',
          phase: phase.name,
          message: `phase ${phase.name} waits for approval: drover run approve ${drive.run.id} --phase ${phase.name}`,
        });
        return;
      }
      await drive.writePhase(pi, (p) =>
        Object.assign(p, { approvedBy: `${drive.options.coordinatorId} (--yes)`, approvedAt: Date.now() }),
      );
      await drive.event({
        type: 'approved',
        phase: phase.name,
        by: drive.options.coordinatorId,
        message: `phase ${phase.name} approved by --yes`,
      });
    }
    if (record.state !== 'running') {
      await drive.writePhase(pi, (p, run) => {
        p.state = 'running';
        p.startedAt ??= Date.now();
        run.phase = pi;
        run.state = 'running';
      });
      await drive.event({
        type: 'phase-started',
        phase: phase.name,
        message: `phase ${pi + 1}/${plan.phases.length} ${phase.name}: ${phase.steps.length} step(s), ${phase.gate.length} gate check(s)`,
      });
    }
    const steps = stepsOf(phase);
    for (const [si, step] of steps.entries()) {
      const stepRecord = drive.run.phases[pi]?.steps[si];
      if (stepRecord?.state === 'succeeded') continue;
      if (drive.run.cancelRequested) return cancel(drive, pi);
      const kind = si < phase.steps.length ? 'step' : 'gate';
      const outcome = await drive.step(pi, kind, si, step);
      if (!outcome) return; // lease lost: the new owner carries on
      if (!outcome.ok) {
        const state = outcome.cancelled || drive.run.cancelRequested ? 'cancelled' : 'failed';
        await drive.writePhase(pi, (p, run) => {
          p.state = state;
          p.message = outcome.message;
          p.finishedAt = Date.now();
          run.state = state;
          run.message = `phase ${phase.name}: ${outcome.message}`;
          run.finishedAt = Date.now();
        });
        await drive.event({
          type: state === 'cancelled' ? 'cancelled' : 'phase-failed',
          phase: phase.name,
          message: outcome.message,
        });
        if (state === 'failed')
          await drive.event({
            type: 'failed',
            phase: phase.name,
            message: `run failed at phase ${phase.name}; fix the cause then 'drover run resume ${drive.run.id}', or 'drover run rollback ${drive.run.id}'`,
          });
        return;
      }
    }
    const last = pi === plan.phases.length - 1;
    await drive.writePhase(pi, (p, run) => {
      p.state = 'succeeded';
      p.finishedAt = Date.now();
      run.phase = last ? pi : pi + 1;
      if (last) {
        run.state = 'succeeded';
        run.finishedAt = Date.now();
        run.message = `all ${plan.phases.length} phase(s) succeeded`;
      } else if (run.until === phase.name) {
        run.state = 'paused';
        run.message = `paused after phase ${phase.name} (--until); continue with 'drover run resume ${run.id}'`;
      }
    });
    await drive.event({ type: 'phase-succeeded', phase: phase.name, message: `phase ${phase.name} succeeded` });
    if (last) {
      await drive.event({ type: 'succeeded', message: drive.run.message ?? 'run succeeded' });
      return;
    }
    if (drive.run.state === 'paused') {
      await drive.event({ type: 'paused', phase: phase.name, message: drive.run.message ?? 'paused' });
      return;
    }
  }
}

async function cancel(drive: Drive, pi: number): Promise<void> {
  await drive.settleInFlight(pi);
  await drive.writePhase(pi, (p, run) => {
    if (p.state === 'running' || p.state === 'awaiting-approval') p.state = 'cancelled';
    run.state = 'cancelled';
    run.finishedAt = Date.now();
    run.message = `cancelled at phase ${p.name}`;
  });
  await drive.event({
    type: 'cancelled',
    phase: drive.plan.phases[pi]?.name,
    message: drive.run.message ?? 'cancelled',
  });
}

/**
 * Rolls the run back: the rollback steps of the phase it stopped in (if it started), then of every
 * completed phase, in reverse order, down to `to` (included; default the first phase).
 */
export async function rollbackRun(
  d: Drover,
  store: RunStore,
  runId: string,
  options: RunDriveOptions & { to?: string },
): Promise<PlanRun> {
  const plan = options.plan ?? (await readRunPlan(store, runId));
  const toIndex = options.to === undefined ? 0 : plan.phases.findIndex((p) => p.name === options.to);
  const lease = await RunLease.take(store, runId, options.coordinatorId, options.leaseWait, (run) => {
    if (toIndex > run.phase)
      throw new RunStateError(
        run.id,
        run.state,
        `--to ${options.to} is after the phase it reached (${run.phases[run.phase]?.name})`,
      );
    if (run.state === 'rolled-back' && options.to === run.rollback?.to)
      throw new RunStateError(run.id, run.state, 'already rolled back');
    const started = (p: PhaseRun) => !['pending', 'awaiting-approval', 'rolled-back'].includes(p.state);
    const order: number[] = [];
    for (let pi = run.phase; pi >= toIndex; pi--)
      if (run.phases[pi] && started(run.phases[pi] as PhaseRun)) order.push(pi);
    for (const phase of run.phases)
      for (const step of phase.rollback)
        if (step.state === 'failed' || step.state === 'cancelled')
          Object.assign(step, { attempt: step.attempt + 1, state: 'pending' });
    run.rollback = { order, ...(options.to ? { to: options.to } : {}) };
    run.state = 'rolling-back';
    run.cancelRequested = false;
    delete run.finishedAt;
    return run;
  });
  const drive = new Drive(d, lease, plan, options);
  try {
    await drive.settleInFlight(lease.run.phase);
    const order = lease.run.rollback?.order ?? [];
    await drive.event({
      type: 'rollback-started',
      message: `rolling back ${order.length} phase(s): ${order.map((i) => plan.phases[i]?.name).join(' <- ') || 'none started'}`,
    });
    for (const pi of order) {
      const phase = plan.phases[pi] as ResolvedPhase;
      if (drive.run.phases[pi]?.state === 'rolled-back') continue;
      await drive.writePhase(pi, (p) => {
        p.state = 'rolling-back';
      });
      for (const [ri, step] of phase.rollback.entries()) {
        if (drive.run.phases[pi]?.rollback[ri]?.state === 'succeeded') continue;
        if (drive.run.cancelRequested) {
          await cancel(drive, pi);
          return lease.run;
        }
        const outcome = await drive.step(pi, 'rollback', ri, step);
        if (!outcome) return lease.run;
        if (!outcome.ok) {
          await drive.writePhase(pi, (p, run) => {
            p.state = 'rollback-failed';
            run.state = 'rollback-failed';
            run.finishedAt = Date.now();
            run.message = `rollback of phase ${phase.name}: ${outcome.message}`;
          });
          await drive.event({ type: 'rollback-failed', phase: phase.name, message: drive.run.message ?? '' });
          return lease.run;
        }
      }
      await drive.writePhase(pi, (p) => {
        p.state = 'rolled-back';
        p.message = phase.rollback.length ? `rolled back (${phase.rollback.length} step(s))` : 'no rollback steps';
      });
      await drive.event({ type: 'phase-rolled-back', phase: phase.name, message: `phase ${phase.name} rolled back` });
    }
    await drive.lease.write((run) => {
      run.state = 'rolled-back';
      run.phase = toIndex;
      run.finishedAt = Date.now();
      run.message = `rolled back down to phase ${plan.phases[toIndex]?.name}`;
      return run;
    });
    await drive.event({ type: 'rolled-back', message: drive.run.message ?? 'rolled back' });
  } finally {
    await lease.release();
  }
  return lease.run;
}
