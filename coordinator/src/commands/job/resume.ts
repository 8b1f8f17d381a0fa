import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../../cli/connection.ts';
import { runLine, shouldPrint, summaryText } from '../../cli/render-job.ts';
import { type RunResult, toResult } from '../../cli/run-result.ts';
import { driveJob, JobLeasedError, LEASE_MS, loadSigner } from '../../engine/index.ts';

export default class JobResume extends DroverCommand<RunResult> {
  static override summary =
    'Take over a job whose coordinator died and drive it to the end (finished orders are not re-run).';
  static override examples = ['<%= config.bin %> job resume j-20261125-120000-abcdef'];
  static override args = { id: Args.string({ required: true, description: 'job id' }) };
  static override flags = {
    ...natsFlags,
    key: Flags.string({ summary: "The coordinator's private signing key.", env: 'DROVER_KEY' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only the summary.', default: false }),
    wait: Flags.boolean({
      summary: "Wait for a dead coordinator's lease (at most 15 s) to lapse instead of failing.",
      default: true,
      allowNo: true,
    }),
  };

  async run(): Promise<RunResult> {
    const { args, flags } = await this.parse(JobResume);
    const signer = loadSigner(flags.key);
    const d = await connectFromFlags(flags);
    try {
      const drive = () =>
        driveJob(d, args.id, {
          coordinatorId: coordinatorId(),
          signer,
          onRun: (run) => {
            if (!flags.quiet && shouldPrint(run)) this.log(runLine(run));
          },
          onJobEvent: (event) => {
            if (!flags.quiet && event.type !== 'verdict') this.log(`[job] ${event.message}`);
          },
        });
      let summary: Awaited<ReturnType<typeof drive>>;
      for (;;) {
        try {
          summary = await drive();
          break;
        } catch (error) {
          // A coordinator that died still holds its lease for a few seconds: wait it out, once.
          if (!(error instanceof JobLeasedError) || !flags.wait || error.leaseUntil - Date.now() > LEASE_MS)
            throw error;
          this.log(
            `job is leased by ${error.owner} until ${new Date(error.leaseUntil).toISOString()}; waiting for the lease to lapse`,
          );
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, error.leaseUntil - Date.now()) + 250));
        }
      }
      this.log(summaryText(summary));
      if (summary.job.state !== 'succeeded') process.exitCode = 1;
      return toResult(summary);
    } finally {
      await d.close();
    }
  }
}
