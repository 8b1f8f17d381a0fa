import { Flags } from '@oclif/core';
import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../cli/connection.ts';
import { ago, renderTable } from '../cli/table.ts';
import { formatCounts, type JobRecord, listJobs } from '../engine/index.ts';

export interface JobsResult {
  jobs: Array<
    Pick<
      JobRecord,
      'id' | 'step' | 'selector' | 'state' | 'createdAt' | 'finishedAt' | 'counts' | 'owner' | 'leaseUntil'
    > & { targets: number }
  >;
}

export default class Jobs extends DroverCommand<JobsResult> {
  static override summary = 'List jobs, newest first.';
  static override examples = ['<%= config.bin %> jobs', '<%= config.bin %> jobs --state running --json'];
  static override flags = {
    ...natsFlags,
    state: Flags.string({
      summary: 'Only jobs in this state.',
      options: ['running', 'succeeded', 'failed', 'stopped', 'cancelled'],
    }),
    limit: Flags.integer({ summary: 'At most this many.', default: 50, min: 1 }),
  };

  async run(): Promise<JobsResult> {
    const { flags } = await this.parse(Jobs);
    const d = await connectFromFlags(flags);
    try {
      const jobs = (await listJobs(d.jobs))
        .filter((j) => !flags.state || j.state === flags.state)
        .slice(0, flags.limit);
      const now = Date.now();
      this.log(
        renderTable(
          ['JOB', 'STEP', 'SELECTOR', 'TARGETS', 'STATE', 'CREATED', 'OUTCOME'],
          jobs.map((j) => {
            const targets = j.groups.reduce((n, g) => n + g.agents.length, 0);
            const orphaned = j.state === 'running' && (j.leaseUntil ?? 0) < now ? ' (no coordinator: resume it)' : '';
            return [
              j.id,
              j.step,
              j.selector || '(all)',
              String(targets),
              j.state + orphaned,
              ago(j.createdAt, now),
              j.counts ? formatCounts(j.counts) : '',
            ];
          }),
        ),
      );
      return {
        jobs: jobs.map((j) => ({
          id: j.id,
          step: j.step,
          selector: j.selector,
          state: j.state,
          createdAt: j.createdAt,
          finishedAt: j.finishedAt,
          counts: j.counts,
          owner: j.owner,
          leaseUntil: j.leaseUntil,
          targets: j.groups.reduce((n, g) => n + g.agents.length, 0),
        })),
      };
    } finally {
      await d.close();
    }
  }
}
