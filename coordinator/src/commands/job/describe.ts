import { Args } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../../cli/connection.ts';
import { runsTable } from '../../cli/render-job.ts';
import { countStates, type JobRecord, type RunRecord, readJob, readRuns } from '../../engine/index.ts';

export interface JobDescribeResult {
  job: JobRecord;
  counts: Record<string, number>;
  runs: Array<Omit<RunRecord, 'order'> & { orderId?: string }>;
}

export default class JobDescribe extends DroverCommand<JobDescribeResult> {
  static override summary = "Show a job's options, groups and every target's state.";
  static override examples = ['<%= config.bin %> job describe j-20261125-120000-abcdef'];
  static override args = { id: Args.string({ required: true, description: 'job id' }) };
  static override flags = { ...natsFlags };

  async run(): Promise<JobDescribeResult> {
    const { args, flags } = await this.parse(JobDescribe);
    const d = await connectFromFlags(flags);
    try {
      const { job } = await readJob(d.jobs, args.id);
      const runs = await readRuns(d.runs, job);
      const ordered = job.groups
        .flatMap((g) => g.agents)
        .map((id) => runs.get(id))
        .filter((r): r is RunRecord => r !== undefined);
      const counts = countStates(ordered);
      this.log(`job:       ${job.id} (${job.state}${job.cancelRequested ? ', cancel requested' : ''})`);
      this.log(`step:      ${job.step} ${JSON.stringify(job.params)}`);
      this.log(`selector:  ${job.selector || '(all agents)'}`);
      this.log(`options:   ${JSON.stringify(job.options)}`);
      this.log(`groups:    ${job.groups.map((g) => `${g.key} (${g.agents.length})`).join(', ')}`);
      this.log(
        `owner:     ${job.owner ?? '-'}${job.leaseUntil ? ` until ${new Date(job.leaseUntil).toISOString()}` : ''}`,
      );
      this.log(
        `counts:    ${Object.entries(counts)
          .filter(([, n]) => n > 0)
          .map(([s, n]) => `${s}=${n}`)
          .join(' ')}`,
      );
      this.log(runsTable(ordered));
      return {
        job,
        counts,
        runs: ordered.map(({ order, ...rest }) => ({ ...rest, ...(order ? { orderId: order.orderId } : {}) })),
      };
    } finally {
      await d.close();
    }
  }
}
