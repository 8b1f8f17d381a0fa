import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags } from '../../cli/connection.ts';
import { driveContext, driveFlags, finish, withLeaseWait } from '../../cli/drive-run.ts';
import { checkPhaseName, type PlanRun, readRunPlan, rollbackRun } from '../../index.ts';

export default class RunRollback extends DroverCommand<PlanRun> {
  static override summary =
    'Undo a run: the rollback steps of the phase it stopped in, then of every completed phase, newest first.';
  static override description =
    '--to PHASE stops after rolling that phase back (it is included). A rollback that fails stops (rollback-failed); running the command again retries from there.';
  static override examples = [
    '<%= config.bin %> run rollback r-20261202-131500-abcdef',
    '<%= config.bin %> run rollback r-20261202-131500-abcdef --to leaders',
  ];
  static override args = { run: Args.string({ required: true, description: 'run id' }) };
  static override flags = {
    ...driveFlags,
    to: Flags.string({ summary: 'The earliest phase to roll back (included). Default: the first phase.' }),
  };

  async run(): Promise<PlanRun> {
    const { args, flags } = await this.parse(RunRollback);
    const d = await connectFromFlags(flags);
    try {
      const ctx = await driveContext(d, flags, (line) => this.log(line));
      if (flags.to !== undefined) checkPhaseName(await readRunPlan(ctx.store, args.run), '--to', flags.to);
      const run = await withLeaseWait(
        flags.wait,
        (line) => this.log(line),
        () => rollbackRun(d, ctx.store, args.run, { ...ctx.options, ...(flags.to ? { to: flags.to } : {}) }),
      );
      return finish(run, (line) => this.log(line));
    } finally {
      await d.close();
    }
  }
}
