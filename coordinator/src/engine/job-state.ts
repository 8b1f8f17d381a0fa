// The targets of one running job and the figures the driver decides on, kept current on every
// state change: counts by state, open (not final) targets per serial group, and each group's
// dispatch cursor. So one loop pass costs the same at 10 or 10,000 targets. No I/O here: whoever
// drives the job (the job driver, a plan runner) persists and publishes around `move`.
import { FINAL_TARGET_STATES, isFinalTargetState, type TargetState } from '@drover/shared';
import { countStates, type JobRecord, type RunRecord } from './records.ts';

/** Gives a target a new state and records why (persisting, auditing, publishing as the driver does). */
export type SetState = (run: RunRecord, state: TargetState, extra?: Partial<RunRecord>) => void;

/**
 * Worked example: groups [rack=a: n1 n2] [rack=b: n3], n1 already succeeded (a resumed job).
 *   counts: succeeded 1, pending 2; open per group [1, 1]; firstOpenGroup() = 0
 *   takePending(0, 5) = [n2] (group 0's cursor passes n1 and n2); move(n2, 'dispatched'): inFlight 1
 *   move(n2, 'succeeded'): open [0, 1], firstOpenGroup() = 1; takePending(1, 5) = [n3]
 *   move(n3, 'failed'): open [0, 0], firstOpenGroup() = -1, allFinal() = true
 */
export class JobRuns {
  /** Every target's run record, by agent id. */
  readonly runs: Map<string, RunRecord>;
  /** Targets by state; every state listed, zeros included. */
  readonly counts: Record<string, number>;
  /** Number of distinct targets. */
  readonly total: number;
  private readonly job: JobRecord;
  /** Position of each target in the job's dispatch order (it makes the order id). */
  private readonly position = new Map<string, number>();
  private readonly groupOf = new Map<string, number>();
  private readonly groupOpen: number[];
  private readonly groupCursor: number[];
  /** Targets with an order out (dispatched or running), for the scans that concern only them. */
  private readonly out = new Set<RunRecord>();

  /** `runs` is adopted (not copied); targets without a run record are added as `pending`. */
  constructor(job: JobRecord, runs: Map<string, RunRecord>) {
    this.job = job;
    this.runs = runs;
    for (const [i, id] of job.groups.flatMap((g) => g.agents).entries()) this.position.set(id, i);
    this.total = this.position.size;
    for (const group of job.groups) {
      for (const agentId of group.agents) {
        if (!runs.has(agentId)) runs.set(agentId, { jobId: job.id, agentId, group: group.key, state: 'pending' });
      }
    }
    this.counts = countStates(runs.values());
    this.groupOpen = job.groups.map((g, gi) => {
      for (const id of g.agents) this.groupOf.set(id, gi);
      return g.agents.filter((id) => !isFinalTargetState(runs.get(id)?.state ?? 'pending')).length;
    });
    this.groupCursor = job.groups.map(() => 0);
    for (const run of runs.values()) if (isOut(run.state)) this.out.add(run);
  }

  /** The targets with an order out now (dispatched or running); kept current by `move`. */
  outstanding(): Iterable<RunRecord> {
    return this.out;
  }

  /** The target's position in dispatch order (0 for an agent that is not a target). */
  positionOf(agentId: string): number {
    return this.position.get(agentId) ?? 0;
  }

  /** Sets the run's state and keeps the counts and the group's open count in step. */
  move(run: RunRecord, state: TargetState): void {
    const before = run.state;
    if (before === state) return;
    this.counts[before] = (this.counts[before] ?? 0) - 1;
    this.counts[state] = (this.counts[state] ?? 0) + 1;
    const gi = this.groupOf.get(run.agentId) ?? 0;
    if (!isFinalTargetState(before) && isFinalTargetState(state)) this.groupOpen[gi] = (this.groupOpen[gi] ?? 0) - 1;
    if (isFinalTargetState(before) && !isFinalTargetState(state)) this.groupOpen[gi] = (this.groupOpen[gi] ?? 0) + 1;
    run.state = state;
    if (isOut(state)) this.out.add(run);
    else this.out.delete(run);
  }

  /** How many targets are in any of `states`. */
  countOf(states: readonly TargetState[]): number {
    return states.reduce((n, s) => n + (this.counts[s] ?? 0), 0);
  }

  /** Targets with an order out: dispatched or running. */
  inFlight(): number {
    return (this.counts.dispatched ?? 0) + (this.counts.running ?? 0);
  }

  /** Every target has a final state. */
  allFinal(): boolean {
    return this.countOf(FINAL_TARGET_STATES) === this.total;
  }

  /** The first serial group with a target not yet final (the one to dispatch from), or -1. */
  firstOpenGroup(): number {
    return this.groupOpen.findIndex((open) => open > 0);
  }

  /**
   * Up to `max` pending targets of group `groupIndex`, in group order. The group's cursor only
   * moves forward, so each target is handed out once; the caller moves them on (e.g. dispatched).
   */
  takePending(groupIndex: number, max: number): RunRecord[] {
    const agents = this.job.groups[groupIndex]?.agents ?? [];
    const next: RunRecord[] = [];
    for (let i = this.groupCursor[groupIndex] ?? 0; i < agents.length && next.length < max; i++) {
      const run = this.runs.get(agents[i] as string);
      if (run?.state === 'pending') next.push(run);
      this.groupCursor[groupIndex] = i + 1;
    }
    return next;
  }
}

function isOut(state: TargetState): boolean {
  return state === 'dispatched' || state === 'running';
}
