import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../cli/connection.ts';
import { runsTable } from '../cli/render-run.ts';
import { listRuns, openRunStore, type PlanRun } from '../index.ts';

export default class Runs extends DroverCommand<PlanRun[]> {
  static override summary = 'List plan runs, newest first: state, current phase, who drives each.';
  static override examples = ['<%= config.bin %> runs'];
  static override flags = { ...natsFlags };

  async run(): Promise<PlanRun[]> {
    const { flags } = await this.parse(Runs);
    const d = await connectFromFlags(flags);
    try {
      const runs = await listRuns(await openRunStore(d));
      this.log(runs.length ? runsTable(runs) : 'no plan runs');
      return runs;
    } finally {
      await d.close();
    }
  }
}
