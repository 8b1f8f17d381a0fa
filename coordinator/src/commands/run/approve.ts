import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags } from '../../cli/connection.ts';
import { driveContext, driveFlags, finish, withLeaseWait } from '../../cli/drive-run.ts';
import {
  checkPhaseName,
  driveRun,
  emitRunEvent,
  type PlanRun,
  RunStateError,
  readRun,
  readRunPlan,
  updateRun,
} from '../../index.ts';

export default class RunApprove extends DroverCommand<PlanRun> {
  static override summary = 'Approve a phase that waits for a person, then drive the run on (unless --no-resume).';
  static override examples = [
    '<%= config.bin %> run approve r-20261202-131500-abcdef',
    '<%= config.bin %> run approve r-20261202-131500-abcdef --phase repoint-clients --no-resume',
  ];
  static override args = { run: Args.string({ required: true, description: 'run id' }) };
  static override flags = {
    ...driveFlags,
    phase: Flags.string({ summary: 'The phase to approve (default: the one the run waits at).' }),
    resume: Flags.boolean({ summary: 'Drive the run on after approving.', default: true, allowNo: true }),
    by: Flags.string({ summary: 'Who approves (recorded and audited).', env: 'USER' }),
  };

  async run(): Promise<PlanRun> {
    const { args, flags } = await this.parse(RunApprove);
    const d = await connectFromFlags(flags);
    try {
      const ctx = await driveContext(d, flags, (line) => this.log(line));
      const plan = await readRunPlan(ctx.store, args.run);
      const current = (await readRun(ctx.store, args.run)).run;
      const phaseName = flags.phase ?? current.phases[current.phase]?.name ?? '';
      const index = checkPhaseName(plan, '--phase', phaseName);
      const by = `${flags.by ?? 'unknown'} via ${ctx.options.coordinatorId}`;
      const { run } = await updateRun(ctx.store, args.run, (r) => {
        const phase = r.phases[index];
        if (!plan.phases[index]?.approval)
          throw new RunStateError(r.id, r.state, `phase ${phaseName} has no approval point`);
        if (!phase || !['pending', 'awaiting-approval'].includes(phase.state))
          throw new RunStateError(
            r.id,
            r.state,
            `phase ${phaseName} is ${phase?.state}; only a phase not started yet can be approved`,
          );
        if (['succeeded', 'cancelled', 'rolling-back', 'rolled-back', 'rollback-failed'].includes(r.state))
          throw new RunStateError(r.id, r.state, 'approvals no longer apply');
        if (phase.approvedAt !== undefined) return undefined;
        return {
          ...r,
          phases: r.phases.map((p, i) => (i === index ? { ...p, approvedBy: by, approvedAt: Date.now() } : p)),
        };
      });
      await emitRunEvent(d, ctx.options.onEvent, {
        runId: run.id,
        type: 'approved',
        phase: phaseName,
        by,
        message: `phase ${phaseName} approved by ${by}`,
      });
      if (!flags.resume || run.state !== 'awaiting-approval' || run.phase !== index)
        return finish(run, (l) => this.log(l));
      const driven = await withLeaseWait(
        flags.wait,
        (line) => this.log(line),
        () => driveRun(d, ctx.store, args.run, ctx.options),
      );
      return finish(driven, (line) => this.log(line));
    } finally {
      await d.close();
    }
  }
}
