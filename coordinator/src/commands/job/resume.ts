import { Args, Flags } from '@oclif/core';
import { DroverCommand } from '../../cli/base-command.ts';
import { connectFromFlags, coordinatorId, natsFlags } from '../../cli/connection.ts';
import { runLine, shouldPrint, summaryText } from '../../cli/render-job.ts';
import { type RunResult, toResult } from '../../cli/run-result.ts';
import { driveJob, loadSigner } from '../../engine/index.ts';

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
      summary:
        "Watch the current coordinator's lease (15 s) and take over if it lapses, instead of refusing at once. A coordinator that renews it is alive: the resume is refused.",
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
          leaseWait: flags.wait,
          onRun: (run) => {
            if (!flags.quiet && shouldPrint(run)) this.log(runLine(run));
          },
          onJobEvent: (event) => {
            if (!flags.quiet && event.type !== 'verdict') this.log(`[job] ${event.message}`);
          },
        });
      if (flags.wait) this.log('if another coordinator holds the job, its lease is watched for up to 15 s first');
      const summary = await drive();
      this.log(summaryText(summary));
      if (summary.job.state !== 'succeeded') process.exitCode = 1;
      return toResult(summary);
    } finally {
      await d.close();
    }
  }
}
