import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags } from '../../cli/connection.ts';
import { driveContext, driveFlags, finish, withLeaseWait } from '../../cli/drive-run.ts';
import { checkPhaseName, driveRun, type PlanRun, readRunPlan } from '../../index.ts';

export default class RunResume extends DroverCommand<PlanRun> {
  static override summary =
    'Drive a run on from where it is: after a crash, a pause, an approval, or a failure whose cause was fixed.';
  static override description =
    'A failed or cancelled step runs again as its next attempt; steps that succeeded are never dispatched again. A run a dead coordinator was driving is taken over once its lease lapses.';
  static override examples = ['<%= config.bin %> run resume r-20261202-131500-abcdef'];
  static override args = { run: Args.string({ required: true, description: 'run id' }) };
  static override flags = {
    ...driveFlags,
    yes: Flags.boolean({ char: 'y', summary: 'Approve every approval point as it comes.', default: false }),
    until: Flags.string({ summary: 'Stop (paused) after this phase.' }),
  };

  async run(): Promise<PlanRun> {
    const { args, flags } = await this.parse(RunResume);
    const d = await connectFromFlags(flags);
    try {
      const ctx = await driveContext(d, flags, (line) => this.log(line), { autoApprove: flags.yes });
      if (flags.until !== undefined) {
        checkPhaseName(await readRunPlan(ctx.store, args.run), '--until', flags.until);
        ctx.options.until = flags.until;
      }
      const run = await withLeaseWait(
        flags.wait,
        (line) => this.log(line),
        () => driveRun(d, ctx.store, args.run, ctx.options),
      );
      return finish(run, (line) => this.log(line));
    } finally {
      await d.close();
    }
  }
}
