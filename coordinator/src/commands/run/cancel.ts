import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags } from '../../cli/connection.ts';
import { driveContext, driveFlags, finish } from '../../cli/drive-run.ts';
import {
  driveRun,
  emitRunEvent,
  openRunStore,
  type PlanRun,
  RESTING_RUN_STATES,
  RunStateError,
  readRun,
  updateRun,
} from '../../index.ts';

export default class RunCancel extends DroverCommand<PlanRun> {
  static override summary =
    'Cancel a run: no more dispatch, running orders asked to stop; the run ends cancelled (then resume or rollback).';
  static override examples = ['<%= config.bin %> run cancel r-20261202-131500-abcdef'];
  static override args = { run: Args.string({ required: true, description: 'run id' }) };
  static override flags = {
    ...driveFlags,
    'wait-ms': Flags.integer({
      summary: 'How long to wait for the driving coordinator to finish the cancel.',
      default: 60_000,
    }),
  };

  async run(): Promise<PlanRun> {
    const { args, flags } = await this.parse(RunCancel);
    const d = await connectFromFlags(flags);
    try {
      const store = await openRunStore(d);
      const log = (line: string) => this.log(line);
      const { run } = await updateRun(store, args.run, (r) => {
        if (['succeeded', 'cancelled', 'rolled-back'].includes(r.state))
          throw new RunStateError(r.id, r.state, 'nothing to cancel');
        if (r.cancelRequested) return undefined;
        // Nobody drives a resting run: it is cancelled here and now.
        if (RESTING_RUN_STATES.includes(r.state))
          return {
            ...r,
            cancelRequested: true,
            state: 'cancelled',
            finishedAt: Date.now(),
            message: `cancelled while ${r.state}`,
          };
        return { ...r, cancelRequested: true };
      });
      await emitRunEvent(d, undefined, {
        runId: run.id,
        type: 'cancel-requested',
        message: 'cancel requested by operator',
      });
      if (run.state === 'cancelled') return finish(run, log);
      // A live coordinator finishes the cancel; a dead one's run is taken over here to do it.
      const deadline = Date.now() + flags['wait-ms'];
      for (;;) {
        const { run: now } = await readRun(store, args.run);
        if (now.state !== 'running' && now.state !== 'rolling-back') return finish(now, log);
        if ((!now.owner || (now.leaseUntil ?? 0) < Date.now()) && now.state === 'rolling-back') {
          log(`run ${now.id} was rolling back and nobody drives it: finish with 'drover run rollback ${now.id}'`);
          return now;
        }
        if (!now.owner || (now.leaseUntil ?? 0) < Date.now()) {
          const ctx = await driveContext(d, flags, log);
          return finish(await driveRun(d, ctx.store, args.run, ctx.options), log);
        }
        if (Date.now() > deadline) {
          log(
            `the driving coordinator ${now.owner} has not finished the cancel yet; see 'drover run describe ${now.id}'`,
          );
          return now;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      await d.close();
    }
  }
}
