// A plan run's live display: the driver's callbacks (run events, target records, job events) and the
// agents' events of each step's job, folded into one model and drawn by listr2. `apply` makes one
// after the run exists and closes it when the drive returns, before its closing lines.
import { COORDINATOR_TOKEN } from '@drover/shared';
import type { Drover } from '../../engine/index.ts';
import type { PlanRun, RunDriveOptions } from '../../plan/index.ts';
import { type ProgressDisplay, startDisplay } from './display.ts';
import { type JobFollowers, jobFollowers } from './follow.ts';
import { type ProgressAction, viewOfRun } from './model.ts';

/** True when the command draws bars: a terminal, and neither --json nor --quiet. */
export function wantsLiveProgress(flags: { json?: boolean; quiet?: boolean }): boolean {
  return process.stdout.isTTY === true && !flags.json && !flags.quiet;
}

export type DriveCallbacks = Pick<RunDriveOptions, 'onEvent' | 'onTarget' | 'onJobEvent'>;

export class RunProgress {
  private readonly followers: JobFollowers;
  private display: ProgressDisplay | undefined;

  constructor(d: Drover) {
    this.followers = jobFollowers(d, (action) => this.dispatch(action));
  }

  /** Starts drawing `run` (the record as created or read). */
  start(run: PlanRun): void {
    this.display = startDisplay(viewOfRun(run), { layout: 'phases' });
  }

  dispatch(action: ProgressAction): void {
    this.display?.dispatch(action);
  }

  /** What the driver reports, as actions (replacing the plain lines). */
  callbacks(): DriveCallbacks {
    return {
      onEvent: (event) => {
        this.dispatch({ type: 'run-event', event });
        if (event.type === 'step-started' && event.jobId) this.followers.follow(event.jobId);
      },
      onTarget: (record, _step, progress) => this.dispatch({ type: 'target', record, total: progress.total }),
      onJobEvent: (event) =>
        this.dispatch({
          type: 'event',
          event: { jobId: event.jobId, agentId: COORDINATOR_TOKEN, kind: 'job', at: event.at, data: { ...event } },
        }),
    };
  }

  /** Stops following and releases the terminal, the last record (when given) drawn first. */
  async close(final?: PlanRun): Promise<void> {
    await this.followers.stop();
    if (final) this.dispatch({ type: 'run', run: final });
    await this.display?.close();
  }
}
