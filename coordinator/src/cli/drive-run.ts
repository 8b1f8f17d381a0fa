// What `apply`, `run resume`, `run approve` and `run rollback` share: flags, the live display of a
// run (run transitions, per-step target verdicts, job events), waiting out a dead coordinator's
// lease once, the closing summary and the exit code.
import { Flags } from '@oclif/core';
import { type Drover, loadSigner, openRunStore, type PlanRun, type RunDriveOptions, type RunStore } from '../index.ts';
import { coordinatorId, natsFlags } from './connection.ts';
import type { RunProgress } from './progress/run-progress.ts';
import { runLine, shouldPrint } from './render-job.ts';
import { runEventLine } from './render-run.ts';

export const driveFlags = {
  ...natsFlags,
  key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
  quiet: Flags.boolean({ char: 'q', summary: 'Only run and phase transitions, no per-target lines.', default: false }),
  wait: Flags.boolean({
    summary:
      "Watch another coordinator's lease (15 s) and take over if it lapses, instead of refusing at once; one that renews it is alive and the command is refused.",
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
  flags: { key?: string | undefined; quiet: boolean; wait?: boolean },
  log: Log,
  extra: Partial<RunDriveOptions> = {},
  /** On a terminal: the driver's reports go to these bars instead of lines. */
  live?: RunProgress,
): Promise<DriveContext> {
  const signer = loadSigner(flags.key);
  const store = await openRunStore(d);
  return {
    d,
    store,
    options: {
      leaseWait: flags.wait ?? true,
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
      ...live?.callbacks(),
      ...extra,
    },
  };
}

/**
 * Runs `drive`. A run held by another coordinator is watched inside (RunLease.take): what comes out
 * here as RunLeasedError is a live holder (or --no-wait), said plainly.
 */
export async function withLeaseWait(wait: boolean, log: Log, drive: () => Promise<PlanRun>): Promise<PlanRun> {
  if (wait) log('if another coordinator holds the run, its lease is watched for up to 15 s first');
  return drive();
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
