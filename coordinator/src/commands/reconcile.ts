import { Flags } from '@oclif/core';
import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../cli/connection.ts';
import { formatCounts, parseDurationMs, type ReconcileReport, reconcile } from '../engine/index.ts';

export default class Reconcile extends DroverCommand<ReconcileReport> {
  static override summary =
    "Rebuild job and target records from the agents' journals, after NATS lost its state (what ran, and how it ended).";
  static override description =
    `Asks every agent in the registry and every enrolled one (and --agents) for its journal, page by page,
over NATS; only answers signed with the agent's enrolled key count (after a total loss, enrol the agents
again first). A job with no record left is rebuilt from the journals: one target per agent that took its
order, with its result, or running (follow it with \`drover job resume\`). A job whose record survived
keeps it; only its missing target records are written. Not known from journals: a job's parameters and
options, targets that never took its order, plan runs.`;
  static override examples = [
    '<%= config.bin %> reconcile --dry-run',
    '<%= config.bin %> reconcile --job-prefix r-20261203',
  ];
  static override flags = {
    ...natsFlags,
    agents: Flags.string({ summary: 'More agents to ask, comma-separated (besides the registry and enrolments).' }),
    'job-prefix': Flags.string({ summary: 'Only jobs whose id starts with this.' }),
    'dry-run': Flags.boolean({ summary: 'Say what would be written; write nothing.', default: false }),
    timeout: Flags.string({ summary: 'How long each agent has to answer a page.', default: '5s' }),
  };

  async run(): Promise<ReconcileReport> {
    const { flags } = await this.parse(Reconcile);
    const timeoutMs = parseDurationMs('--timeout', flags.timeout);
    const agents = flags.agents
      ?.split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    const d = await connectFromFlags(flags);
    try {
      const report = await reconcile(d, {
        ...(agents ? { agents } : {}),
        ...(flags['job-prefix'] ? { jobPrefix: flags['job-prefix'] } : {}),
        dryRun: flags['dry-run'],
        timeoutMs,
        by: coordinatorId(),
      });
      this.log(
        `asked ${report.asked} agent(s): ${report.answered.length} answered, ${report.unanswered.length} did not${report.refused.length ? `, ${report.refused.length} refused` : ''}`,
      );
      for (const id of report.unanswered) this.log(`  no answer: ${id} (its journal is not in this reconcile)`);
      for (const r of report.refused) this.log(`  refused: ${r.agentId}: ${r.reason}`);
      for (const job of report.jobs)
        this.log(
          `${report.dryRun && job.action !== 'unchanged' ? `would be ${job.action}` : job.action} ${job.jobId} (${job.step || 'step unknown'}): ${job.state}; ${formatCounts(job.counts)}${job.written.length && job.action === 'completed' ? `; ${job.written.length} target record(s) filled` : ''}`,
        );
      if (report.jobs.length === 0) this.log('no job in any journal');
      if (report.unanswered.length > 0 || report.refused.length > 0) process.exitCode = 1;
      return report;
    } finally {
      await d.close();
    }
  }
}
