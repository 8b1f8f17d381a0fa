// What `apply`, `run resume`, `run approve` and `run rollback` share: flags, the live display of a
// run (run transitions, per-step target verdicts, job events), waiting out a dead coordinator's
// lease once, the closing summary and the exit code.
import { Flags } from '@oclif/core';
import {
  type Drover,
  LEASE_MS,
  loadSigner,
  openRunStore,
  type PlanRun,
  type RunDriveOptions,
  RunLeasedError,
  type RunStore,
} from '../index.ts';
import { coordinatorId, natsFlags } from './connection.ts';
import { runLine, shouldPrint } from './render-job.ts';
import { runEventLine } from './render-run.ts';

export const driveFlags = {
  ...natsFlags,
  key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
  quiet: Flags.boolean({ char: 'q', summary: 'Only run and phase transitions, no per-target lines.', default: false }),
  wait: Flags.boolean({
    summary: "Wait (once, at most 15 s) for a dead coordinator's lease to lapse instead of failing.",
    default: true,
    allowNo: true,
  }),
};

export interface DriveContext {
  d: Drover;
  store: RunStore;
  options: RunDriveOptions;
}

type Log = (line: string) => void;

export async function driveContext(
  d: Drover,
  flags: { key?: string | undefined; quiet: boolean },
  log: Log,
  extra: Partial<RunDriveOptions> = {},
): Promise<DriveContext> {
  const signer = loadSigner(flags.key);
  const store = await openRunStore(d);
  return {
    d,
    store,
    options: {
      coordinatorId: coordinatorId(),
      signer,
      onEvent: (event) => log(runEventLine(event)),
      ...(flags.quiet
        ? {}
        : {
            onTarget: (run, step, progress) => {
              if (shouldPrint(run)) log(`  [${step} ${progress.done}/${progress.total}] ${runLine(run)}`);
            },
            onJobEvent: (event) => {
              if (event.type !== 'verdict' && event.type !== 'finished') log(`  [job ${event.jobId}] ${event.message}`);
            },
          }),
      ...extra,
    },
  };
}

/** Runs `drive`, waiting out a lease once when the previous driver is presumed dead. */
export async function withLeaseWait(wait: boolean, log: Log, drive: () => Promise<PlanRun>): Promise<PlanRun> {
  try {
    return await drive();
  } catch (error) {
    if (!(error instanceof RunLeasedError) || !wait || error.leaseUntil - Date.now() > LEASE_MS) throw error;
    log(`run is leased by ${error.owner} until ${new Date(error.leaseUntil).toISOString()}; waiting for it to lapse`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, error.leaseUntil - Date.now()) + 500));
    return drive();
  }
}

/** The closing line, and exit code 1 for a run that failed, was cancelled or could not roll back. */
export function finish(run: PlanRun, log: Log): PlanRun {
  log(`run ${run.id} ${run.state}${run.message ? `: ${run.message}` : ''}`);
  if (run.state === 'awaiting-approval') {
    const phase = run.phases[run.phase]?.name ?? '';
    log(`approve with: drover run approve ${run.id} --phase ${phase}`);
  }
  if (['failed', 'cancelled', 'rollback-failed'].includes(run.state)) process.exitCode = 1;
  return run;
}
