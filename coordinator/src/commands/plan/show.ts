import { Args } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { planShowText } from '../../cli/render-run.ts';
import { loadPlanFile, type PlanShow, showPlan } from '../../plan/index.ts';

export default class PlanShowCommand extends DroverCommand<PlanShow> {
  static override summary =
    'The dry run: per phase, every order that would go out, its resolved targets, and missing or offline agents.';
  static override description =
    'Reads the agent registry; writes and dispatches nothing. Exits 1 when apply would refuse.';
  static override examples = ['<%= config.bin %> plan show migration.yaml'];
  static override args = { file: Args.string({ required: true, description: 'plan file (YAML)' }) };
  static override flags = { ...natsFlags };

  async run(): Promise<PlanShow> {
    const { args, flags } = await this.parse(PlanShowCommand);
    const { plan } = loadPlanFile(args.file);
    const d = await connectFromFlags(flags);
    try {
      const shown = await showPlan(d, plan);
      this.log(planShowText(shown));
      if (shown.problems.length > 0) process.exitCode = 1;
      return shown;
    } finally {
      await d.close();
    }
  }
}
