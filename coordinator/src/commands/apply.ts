import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags } from '../cli/connection.ts';
import { driveContext, driveFlags, finish } from '../cli/drive-run.ts';
import { RunProgress, wantsLiveProgress } from '../cli/progress/index.ts';
import {
  assertNoProblems,
  createRun,
  driveRun,
  emitRunEvent,
  loadPlanFile,
  newRun,
  type PlanRun,
  showPlan,
} from '../index.ts';
import { checkPhaseName } from '../plan/load.ts';

export default class Apply extends DroverCommand<PlanRun> {
  static override summary = 'Carry out a plan file: create a run and drive it phase by phase, stopping at approvals.';
  static override description =
    "The file is checked completely and every step's targets resolved before anything is written. The run's state is in NATS: if this process dies, 'drover run resume RUN' carries on where it was.";
  static override examples = [
    '<%= config.bin %> apply migration.yaml',
    '<%= config.bin %> apply migration.yaml --until expand',
    '<%= config.bin %> apply migration.yaml --yes',
  ];
  static override args = { file: Args.string({ required: true, description: 'plan file (YAML)' }) };
  static override flags = {
    ...driveFlags,
    yes: Flags.boolean({ char: 'y', summary: 'Approve every approval point as it comes.', default: false }),
    until: Flags.string({ summary: 'Stop (paused) after this phase.' }),
  };

  async run(): Promise<PlanRun> {
    const { args, flags } = await this.parse(Apply);
    const loaded = loadPlanFile(args.file);
    if (flags.until !== undefined) checkPhaseName(loaded.plan, '--until', flags.until);
    const d = await connectFromFlags(flags);
    try {
      const live = wantsLiveProgress({ json: this.jsonEnabled(), quiet: flags.quiet }) ? new RunProgress(d) : undefined;
      const ctx = await driveContext(d, flags, (line) => this.log(line), { autoApprove: flags.yes }, live);
      assertNoProblems(await showPlan(d, loaded.plan));
      const run = newRun(loaded, ctx.options.coordinatorId, flags.until);
      await createRun(ctx.store, run, loaded.plan);
      this.log(
        `run ${run.id}: plan ${run.name}, ${run.phases.length} phase(s) (resume with 'drover run resume ${run.id}')`,
      );
      await emitRunEvent(d, undefined, {
        runId: run.id,
        type: 'created',
        by: run.createdBy,
        message: `run created from ${loaded.file} (sha256 ${loaded.digest})`,
      });
      live?.start(run);
      let final: PlanRun | undefined;
      try {
        final = await driveRun(d, ctx.store, run.id, ctx.options);
      } finally {
        await live?.close(final);
      }
      return finish(final, (line) => this.log(line));
    } finally {
      await d.close();
    }
  }
}
