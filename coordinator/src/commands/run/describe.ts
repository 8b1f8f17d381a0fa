import { Args } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { runDescription } from '../../cli/render-run.ts';
import { openRunStore, type PlanRun, readRun } from '../../index.ts';

export default class RunDescribe extends DroverCommand<PlanRun> {
  static override summary = 'Show a plan run: every phase and step, their jobs, states and messages, approvals.';
  static override examples = ['<%= config.bin %> run describe r-20261202-131500-abcdef'];
  static override args = { run: Args.string({ required: true, description: 'run id' }) };
  static override flags = { ...natsFlags };

  async run(): Promise<PlanRun> {
    const { args, flags } = await this.parse(RunDescribe);
    const d = await connectFromFlags(flags);
    try {
      const { run } = await readRun(await openRunStore(d), args.run);
      this.log(runDescription(run));
      return run;
    } finally {
      await d.close();
    }
  }
}
